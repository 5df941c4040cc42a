import Foundation

/// A Python pickle reader that runs no code: it understands the opcodes `pickle.dump` emits in
/// protocols 0 to 5 for dicts, lists, tuples, sets, strings, bytes, ints, floats, bools and None,
/// with the memo and frames, and resolves globals only from a fixed allow-list (numpy array
/// reconstruction, `_codecs.encode`, `collections.OrderedDict`). Anything else is a
/// `PickleError` naming the byte offset.
///
/// The input is bounded: every length is checked against the bytes left, the machine is a loop
/// (no recursion), and containers are referenced by index so nesting depth costs nothing. Work
/// the memo could repeat at will (decoding or reordering a payload, hashing a dict key, copying
/// `OrderedDict` items) is charged to a budget of twice the file size plus 1 MiB, and dict keys
/// are at most 4096 bytes, so a small file cannot make the reader allocate or hash much more
/// than its own size.
public enum PickleReader {
    /// Unpickles the file at `url` (memory-mapped; array payloads stay slices of the mapping).
    public static func read(contentsOf url: URL) throws -> PickleDocument {
        try read(data: MappedFile.map(url), label: url.path)
    }

    /// Unpickles `data`; `label` names it in error messages.
    public static func read(data: Data, label: String = "<memory>") throws -> PickleDocument {
        var machine = Unpickler(data: data, label: label)
        return try machine.run()
    }
}

/// The pickle virtual machine (CPython's `_Unpickler.load` loop, minus everything that runs code).
struct Unpickler {
    let data: Data
    let label: String
    var stack: [PickleValue] = []
    /// Stack heights at each MARK (CPython's metastack).
    var marks: [Int] = []
    var memo: [Int: PickleValue] = [:]
    var objects: [PickleObject] = []
    var protocolVersion = 0
    /// Bytes decoded, byte-swapped, reordered or hashed so far (see `charge`).
    var work = 0
    /// What `work` may reach: twice the input plus 1 MiB. `pickle.dump` writes each payload and
    /// key once and each costs at most two of its own bytes; only values reused through the
    /// memo can go past this.
    let workBudget: Int

    /// The slack `workBudget` allows above twice the input.
    static let workSlack = 1 << 20

    init(data: Data, label: String) {
        self.data = data
        self.label = label
        workBudget = min(data.count, Int.max / 4) * 2 + Unpickler.workSlack
    }

    /// Records `bytes` of work about to be done for `what`, or throws if it would pass the budget.
    mutating func charge(_ cursor: PickleCursor, _ bytes: Int, _ what: @autoclosure () -> String) throws {
        guard bytes <= workBudget - work else {
            throw cursor.error(.excessiveWork(what: what(), limit: workBudget))
        }
        work += bytes
    }

    /// `dict[key] = value`, refusing a string key over `PickleDict.keyLimit` bytes and charging
    /// the key's bytes (it is decoded and hashed).
    mutating func setItem(_ cursor: PickleCursor, _ opcode: String, _ dict: inout PickleDict, _ key: PickleValue, _ value: PickleValue) throws {
        if case let .string(text) = key {
            guard text.raw.count <= PickleDict.keyLimit else {
                throw cursor.error(.keyTooLong(length: text.raw.count, limit: PickleDict.keyLimit))
            }
            try charge(cursor, text.utf8Count, "\(opcode) hashing a \(text.raw.count)-byte key")
        }
        dict.set(key, value)
    }

    mutating func run() throws -> PickleDocument {
        let data = self.data
        return try data.withUnsafeBytes { raw in
            var cursor = PickleCursor(raw, label: label)
            return try loop(&cursor)
        }
    }

    /// `data[range]` as a slice sharing the file's storage.
    func slice(_ range: Range<Int>) -> Data {
        data[(data.startIndex + range.lowerBound)..<(data.startIndex + range.upperBound)]
    }

    mutating func push(_ object: PickleObject) {
        objects.append(object)
        stack.append(.object(objects.count - 1))
    }

    /// Pops one value from above the current mark.
    mutating func pop(_ cursor: PickleCursor, _ opcode: UInt8) throws -> PickleValue {
        guard stack.count > (marks.last ?? 0) else { throw cursor.error(.stackUnderflow(opcode: PickleOpcode.name(opcode))) }
        return stack.removeLast()
    }

    /// The value on top of the stack, above the current mark.
    func top(_ cursor: PickleCursor, _ opcode: UInt8) throws -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.last else {
            throw cursor.error(.stackUnderflow(opcode: PickleOpcode.name(opcode)))
        }
        return value
    }

    /// Pops everything above the last MARK, and the mark.
    mutating func popMark(_ cursor: PickleCursor, _ opcode: UInt8) throws -> [PickleValue] {
        guard let mark = marks.popLast() else { throw cursor.error(.missingMark(opcode: PickleOpcode.name(opcode))) }
        let items = Array(stack[mark...])
        stack.removeSubrange(mark...)
        return items
    }

    /// The index of the object on top of the stack (which must be a heap object).
    func topObject(_ cursor: PickleCursor, _ opcode: UInt8) throws -> Int {
        guard case let .object(index) = try top(cursor, opcode) else {
            throw cursor.error(.badOperand(opcode: PickleOpcode.name(opcode), detail: "target is not a container"))
        }
        return index
    }

    mutating func memoGet(_ cursor: PickleCursor, _ index: Int) throws {
        guard let value = memo[index] else { throw cursor.error(.memoMissing(index: index)) }
        stack.append(value)
    }

    mutating func memoPut(_ cursor: PickleCursor, _ opcode: UInt8, _ index: Int) throws {
        guard index >= 0 else {
            throw cursor.error(.badOperand(opcode: PickleOpcode.name(opcode), detail: "negative memo index \(index)"))
        }
        memo[index] = try top(cursor, opcode)
    }

    /// A protocol 0 decimal line as an Int.
    func decimal(_ cursor: PickleCursor, _ range: Range<Int>, _ opcode: UInt8) throws -> Int {
        let text = cursor.text(range)
        guard let value = Int(text) else {
            throw cursor.error(.badOperand(opcode: PickleOpcode.name(opcode), detail: "'\(text.prefix(40))' is not an integer"))
        }
        return value
    }

    /// A protocol 0 integer literal (`INT`/`LONG`), which may exceed 64 bits.
    func integerLiteral(_ cursor: PickleCursor, _ range: Range<Int>, _ opcode: UInt8) throws -> PickleValue {
        var text = Substring(cursor.text(range))
        if text.hasSuffix("L") { text = text.dropLast() }
        if opcode == PickleOpcode.int, text == "00" { return .bool(false) }
        if opcode == PickleOpcode.int, text == "01" { return .bool(true) }
        if let value = Int(text) { return .int(value) }
        let digits = text.drop { $0 == "-" || $0 == "+" }
        guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber) else {
            throw cursor.error(.badOperand(opcode: PickleOpcode.name(opcode), detail: "'\(text.prefix(40))' is not an integer"))
        }
        return .largeInt
    }

    /// LONG1/LONG4 payload: little-endian two's complement.
    func longValue(_ cursor: PickleCursor, _ range: Range<Int>) -> PickleValue {
        let bytes = UnsafeRawBufferPointer(rebasing: cursor.raw[range])
        guard let last = bytes.last else { return .int(0) }
        let fill: UInt8 = last & 0x80 != 0 ? 0xFF : 0
        if bytes.count > 8 {
            // Fits only if every byte above the 8th is sign extension of bit 63.
            guard bytes[8...].allSatisfy({ $0 == fill }), (bytes[7] & 0x80 != 0) == (fill == 0xFF) else { return .largeInt }
        }
        var value: UInt64 = fill == 0xFF ? ~0 : 0
        for (index, byte) in bytes.prefix(8).enumerated() {
            value &= ~(UInt64(0xFF) << (8 * index))
            value |= UInt64(byte) << (8 * index)
        }
        return .int(Int(Int64(bitPattern: value)))
    }

    mutating func loop(_ cursor: inout PickleCursor) throws -> PickleDocument {
        typealias Op = PickleOpcode
        while true {
            cursor.opcodeOffset = cursor.position
            let opcode = try cursor.byte()
            switch opcode {
            case Op.mark: marks.append(stack.count)
            case Op.stop:
                let value = try pop(cursor, opcode)
                return PickleDocument(root: value, objects: objects, protocolVersion: protocolVersion, byteCount: data.count)
            case Op.pop:
                if stack.count == (marks.last ?? -1) { _ = marks.popLast() } else { _ = try pop(cursor, opcode) }
            case Op.popMark: _ = try popMark(cursor, opcode)
            case Op.dup: stack.append(try top(cursor, opcode))
            case Op.float:
                let text = cursor.text(try cursor.line())
                guard let value = Double(text.trimmingCharacters(in: .whitespaces)) else {
                    throw cursor.error(.badOperand(opcode: "FLOAT", detail: "'\(text.prefix(40))' is not a float"))
                }
                stack.append(.float(value))
            case Op.int, Op.long: stack.append(try integerLiteral(cursor, try cursor.line(), opcode))
            case Op.binint: stack.append(.int(Int(try cursor.integer(Int32.self))))
            case Op.binint1: stack.append(.int(Int(try cursor.byte())))
            case Op.binint2: stack.append(.int(Int(try cursor.integer(UInt16.self))))
            case Op.none: stack.append(.none)
            case Op.newTrue: stack.append(.bool(true))
            case Op.newFalse: stack.append(.bool(false))
            case Op.binfloat: stack.append(.float(try cursor.bigEndianDouble()))
            case Op.long1:
                let count = Int(try cursor.byte())
                stack.append(longValue(cursor, try cursor.take(count)))
            case Op.long4:
                let count = Int(try cursor.integer(Int32.self))
                stack.append(longValue(cursor, try cursor.take(count)))
            case Op.string:
                let decoded = PickleText.pythonStringLiteral(UnsafeRawBufferPointer(rebasing: cursor.raw[try cursor.line()]))
                guard let bytes = decoded else { throw cursor.error(.badOperand(opcode: "STRING", detail: "not a quoted string literal")) }
                stack.append(.string(PickleText(raw: bytes, isLatin1: true)))
            case Op.binstring:
                let count = Int(try cursor.integer(Int32.self))
                stack.append(.string(PickleText(raw: slice(try cursor.take(count)), isLatin1: true)))
            case Op.shortBinstring:
                let count = Int(try cursor.byte())
                stack.append(.string(PickleText(raw: slice(try cursor.take(count)), isLatin1: true)))
            case Op.unicode:
                let utf8 = PickleText.rawUnicodeEscape(UnsafeRawBufferPointer(rebasing: cursor.raw[try cursor.line()]))
                guard let text = utf8 else { throw cursor.error(.badOperand(opcode: "UNICODE", detail: "bad \\u escape")) }
                stack.append(.string(PickleText(raw: text, isLatin1: false)))
            case Op.binunicode:
                let count = try cursor.integer(UInt32.self)
                stack.append(.string(PickleText(raw: slice(try cursor.take(UInt64(count))), isLatin1: false)))
            case Op.shortBinunicode:
                let count = Int(try cursor.byte())
                stack.append(.string(PickleText(raw: slice(try cursor.take(count)), isLatin1: false)))
            case Op.binunicode8:
                let count = try cursor.integer(UInt64.self)
                stack.append(.string(PickleText(raw: slice(try cursor.take(count)), isLatin1: false)))
            case Op.binbytes:
                let count = try cursor.integer(UInt32.self)
                stack.append(.bytes(slice(try cursor.take(UInt64(count)))))
            case Op.shortBinbytes:
                let count = Int(try cursor.byte())
                stack.append(.bytes(slice(try cursor.take(count))))
            case Op.binbytes8, Op.bytearray8:
                let count = try cursor.integer(UInt64.self)
                stack.append(.bytes(slice(try cursor.take(count))))
            case Op.emptyDict: push(.dict(PickleDict()))
            case Op.emptyList: push(.list([]))
            case Op.emptyTuple: push(.tuple([]))
            case Op.emptySet: push(.set([]))
            case Op.tuple1:
                let a = try pop(cursor, opcode)
                push(.tuple([a]))
            case Op.tuple2:
                let b = try pop(cursor, opcode), a = try pop(cursor, opcode)
                push(.tuple([a, b]))
            case Op.tuple3:
                let c = try pop(cursor, opcode), b = try pop(cursor, opcode), a = try pop(cursor, opcode)
                push(.tuple([a, b, c]))
            case Op.tuple: push(.tuple(try popMark(cursor, opcode)))
            case Op.list: push(.list(try popMark(cursor, opcode)))
            case Op.frozenset: push(.set(try popMark(cursor, opcode)))
            case Op.dict:
                let items = try popMark(cursor, opcode)
                var dict = PickleDict()
                try pairs(cursor, opcode, items, into: &dict)
                push(.dict(dict))
            case Op.append:
                let value = try pop(cursor, opcode)
                try extendList(cursor, opcode, [value])
            case Op.appends:
                let items = try popMark(cursor, opcode)
                try extendList(cursor, opcode, items)
            case Op.additems:
                let items = try popMark(cursor, opcode)
                let index = try topObject(cursor, opcode)
                guard case var .set(values) = objects[index] else {
                    throw cursor.error(.badOperand(opcode: "ADDITEMS", detail: "target is not a set"))
                }
                objects[index] = .vacant
                values.append(contentsOf: items)
                objects[index] = .set(values)
            case Op.setitem:
                let value = try pop(cursor, opcode), key = try pop(cursor, opcode)
                try updateDict(cursor, opcode, [key, value])
            case Op.setitems:
                let items = try popMark(cursor, opcode)
                try updateDict(cursor, opcode, items)
            case Op.get: try memoGet(cursor, try decimal(cursor, try cursor.line(), opcode))
            case Op.binget: try memoGet(cursor, Int(try cursor.byte()))
            case Op.longBinget: try memoGet(cursor, Int(try cursor.integer(UInt32.self)))
            case Op.put: try memoPut(cursor, opcode, try decimal(cursor, try cursor.line(), opcode))
            case Op.binput: try memoPut(cursor, opcode, Int(try cursor.byte()))
            case Op.longBinput: try memoPut(cursor, opcode, Int(try cursor.integer(UInt32.self)))
            case Op.memoize: try memoPut(cursor, opcode, memo.count)
            case Op.global:
                let module = cursor.text(try cursor.line())
                let name = cursor.text(try cursor.line())
                try pushGlobal(cursor, module: module, name: name)
            case Op.stackGlobal:
                let name = try pop(cursor, opcode), module = try pop(cursor, opcode)
                guard case let .string(nameText) = name, case let .string(moduleText) = module else {
                    throw cursor.error(.badOperand(opcode: "STACK_GLOBAL", detail: "module and name must be strings"))
                }
                try pushGlobal(cursor, module: moduleText.string, name: nameText.string)
            case Op.reduce:
                let arguments = try pop(cursor, opcode), callable = try pop(cursor, opcode)
                try call(cursor, callable, arguments)
            case Op.newobj:
                let arguments = try pop(cursor, opcode), callable = try pop(cursor, opcode)
                guard case let .object(index) = callable, case .global(.orderedDict) = objects[index],
                      case let .object(argumentIndex) = arguments, case let .tuple(items) = objects[argumentIndex], items.isEmpty else {
                    throw cursor.error(.forbiddenOpcode("NEWOBJ (except collections.OrderedDict())"))
                }
                push(.dict(PickleDict()))
            case Op.build:
                let state = try pop(cursor, opcode)
                try build(cursor, try topObject(cursor, opcode), state)
            case Op.proto:
                let version = Int(try cursor.byte())
                guard version <= 5 else { throw cursor.error(.unsupportedProtocol(version)) }
                protocolVersion = max(protocolVersion, version)
            case Op.frame:
                let length = try cursor.integer(UInt64.self)
                guard length <= UInt64(cursor.remaining) else {
                    throw cursor.error(.truncated(needed: Int(clamping: length), available: cursor.remaining))
                }
            case Op.readonlyBuffer: _ = try top(cursor, opcode)
            case Op.persid, Op.binpersid, Op.inst, Op.obj, Op.ext1, Op.ext2, Op.ext4, Op.newobjEx, Op.nextBuffer:
                throw cursor.error(.forbiddenOpcode(Op.name(opcode)))
            default:
                throw cursor.error(.unknownOpcode(opcode))
            }
        }
    }

    mutating func pushGlobal(_ cursor: PickleCursor, module: String, name: String) throws {
        guard let global = PickleGlobal(module: module, name: name) else {
            throw cursor.error(.forbiddenGlobal(module: String(module.prefix(200)), name: String(name.prefix(200))))
        }
        push(.global(global))
    }

    /// Adds alternating key/value `items` to `dict`.
    mutating func pairs(_ cursor: PickleCursor, _ opcode: UInt8, _ items: [PickleValue], into dict: inout PickleDict) throws {
        guard items.count % 2 == 0 else {
            throw cursor.error(.badOperand(opcode: PickleOpcode.name(opcode), detail: "odd number of items (\(items.count)) for key/value pairs"))
        }
        let name = PickleOpcode.name(opcode)
        for i in stride(from: 0, to: items.count, by: 2) { try setItem(cursor, name, &dict, items[i], items[i + 1]) }
    }

    mutating func updateDict(_ cursor: PickleCursor, _ opcode: UInt8, _ items: [PickleValue]) throws {
        let index = try topObject(cursor, opcode)
        guard case var .dict(dict) = objects[index] else {
            throw cursor.error(.badOperand(opcode: PickleOpcode.name(opcode), detail: "target is a \(objects[index].typeName), not a dict"))
        }
        objects[index] = .vacant  // drop the second reference so the update does not copy
        try pairs(cursor, opcode, items, into: &dict)
        objects[index] = .dict(dict)
    }

    mutating func extendList(_ cursor: PickleCursor, _ opcode: UInt8, _ items: [PickleValue]) throws {
        let index = try topObject(cursor, opcode)
        guard case var .list(values) = objects[index] else {
            throw cursor.error(.badOperand(opcode: PickleOpcode.name(opcode), detail: "target is not a list"))
        }
        objects[index] = .vacant  // drop the second reference so the append does not copy
        values.append(contentsOf: items)
        objects[index] = .list(values)
    }
}
