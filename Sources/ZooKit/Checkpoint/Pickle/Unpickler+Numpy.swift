import Foundation

/// REDUCE and BUILD for the allow-listed globals: how numpy arrays, dtypes and scalars, bytes
/// from `_codecs.encode` and `OrderedDict`s are rebuilt (numpy's `ndarray.__setstate__`,
/// `dtype.__setstate__`, `_frombuffer`, `scalar`), without calling anything.
extension Unpickler {
    /// The elements of the tuple `value` refers to.
    func tupleItems(_ cursor: PickleCursor, _ value: PickleValue, _ what: String) throws -> [PickleValue] {
        if case let .object(index) = value {
            switch objects[index] {
            case let .tuple(items), let .list(items): return items
            default: break
            }
        }
        throw cursor.error(.badOperand(opcode: what, detail: "expected a tuple"))
    }

    /// A shape tuple: non-negative ints.
    func shape(_ cursor: PickleCursor, _ value: PickleValue) throws -> [Int] {
        var shape: [Int] = []
        for item in try tupleItems(cursor, value, "array shape") {
            guard case let .int(extent) = item, extent >= 0 else {
                throw cursor.error(.badArray(detail: "shape entries must be non-negative ints"))
            }
            shape.append(extent)
        }
        return shape
    }

    /// Raw bytes from `bytes`, or from a `str` encoded as latin-1 (how numpy reads Python 2
    /// payloads; decoding UTF-8 text is a copy, charged to the work budget).
    mutating func payload(_ cursor: PickleCursor, _ value: PickleValue, _ what: String) throws -> Data {
        switch value {
        case let .bytes(data): return data
        case let .string(text):
            if !text.isLatin1 { try charge(cursor, text.raw.count, "\(what) decoding a \(text.raw.count)-byte text payload") }
            guard let bytes = text.latin1Bytes() else {
                throw cursor.error(.badOperand(opcode: what, detail: "text payload has characters above U+00FF"))
            }
            return bytes
        default:
            throw cursor.error(.badOperand(opcode: what, detail: "payload is not bytes"))
        }
    }

    func numpyDType(_ cursor: PickleCursor, _ value: PickleValue) throws -> NumpyDType {
        guard case let .object(index) = value, case let .dtype(dtype) = objects[index] else {
            throw cursor.error(.badArray(detail: "dtype argument is not a numpy dtype"))
        }
        return dtype
    }

    /// `callable(*arguments)` for an allowed global.
    mutating func call(_ cursor: PickleCursor, _ callable: PickleValue, _ arguments: PickleValue) throws {
        guard case let .object(index) = callable, case let .global(global) = objects[index] else {
            throw cursor.error(.badOperand(opcode: "REDUCE", detail: "callable is not an allowed global"))
        }
        let args = try tupleItems(cursor, arguments, "REDUCE")
        switch global {
        case .reconstruct:
            // _reconstruct(ndarray, (0,), b'b'): an empty array that BUILD fills in.
            guard args.count == 3, case let .object(classIndex) = args[0], case .global(.ndarray) = objects[classIndex] else {
                throw cursor.error(.badOperand(opcode: "REDUCE", detail: "_reconstruct expects (numpy.ndarray, shape, dtype code)"))
            }
            push(.ndarray(nil))
        case .dtype:
            guard (1...3).contains(args.count), case let .string(code) = args[0] else {
                throw cursor.error(.badOperand(opcode: "REDUCE", detail: "numpy.dtype expects a type code string"))
            }
            push(.dtype(try Unpickler.parseDType(cursor, code.string)))
        case .scalar:
            guard args.count == 2 else {
                throw cursor.error(.badOperand(opcode: "REDUCE", detail: "numpy scalar expects (dtype, bytes)"))
            }
            let dtype = try numpyDType(cursor, args[0])
            let bytes = try payload(cursor, args[1], "scalar")
            push(.ndarray(try makeArray(cursor, dtype, shape: [], fortran: false, payload: bytes)))
        case .frombuffer:
            guard args.count == 4, case let .string(order) = args[3] else {
                throw cursor.error(.badOperand(opcode: "REDUCE", detail: "_frombuffer expects (buffer, dtype, shape, order)"))
            }
            let dtype = try numpyDType(cursor, args[1])
            let shape = try shape(cursor, args[2])
            let bytes = try payload(cursor, args[0], "_frombuffer")
            guard order.string == "C" || order.string == "F" else {
                throw cursor.error(.badArray(detail: "order '\(order.string.prefix(8))' is neither C nor F"))
            }
            push(.ndarray(try makeArray(cursor, dtype, shape: shape, fortran: order.string == "F", payload: bytes)))
        case .codecsEncode:
            guard args.count == 2, case let .string(text) = args[0], case let .string(encoding) = args[1] else {
                throw cursor.error(.badOperand(opcode: "REDUCE", detail: "_codecs.encode expects (str, encoding)"))
            }
            switch encoding.string.lowercased() {
            case "latin1", "latin-1", "iso-8859-1", "iso8859-1":
                stack.append(.bytes(try payload(cursor, args[0], "_codecs.encode")))
            case "utf8", "utf-8":
                if text.isLatin1 { try charge(cursor, text.utf8Count, "_codecs.encode encoding a \(text.raw.count)-byte text") }
                stack.append(.bytes(text.utf8Bytes()))
            default:
                throw cursor.error(.badOperand(opcode: "REDUCE", detail: "_codecs.encode with encoding '\(encoding.string.prefix(20))'"))
            }
        case .orderedDict:
            var dict = PickleDict()
            if let first = args.first {
                // Python 2 pickles OrderedDict(items); the list may be memoized and reused.
                let pairs = try tupleItems(cursor, first, "OrderedDict")
                try charge(cursor, pairs.count * MemoryLayout<(PickleValue, PickleValue)>.stride, "OrderedDict copying \(pairs.count) items")
                for pair in pairs {
                    let items = try tupleItems(cursor, pair, "OrderedDict item")
                    guard items.count == 2 else {
                        throw cursor.error(.badOperand(opcode: "REDUCE", detail: "OrderedDict item is not a pair"))
                    }
                    try setItem(cursor, "OrderedDict", &dict, items[0], items[1])
                }
            }
            push(.dict(dict))
        case .emptyBytes:
            guard args.isEmpty else {
                throw cursor.error(.badOperand(opcode: "REDUCE", detail: "bytes() is only allowed without arguments"))
            }
            stack.append(.bytes(Data()))
        case .ndarray:
            throw cursor.error(.badOperand(opcode: "REDUCE", detail: "numpy.ndarray is only allowed as _reconstruct's argument"))
        }
    }

    /// BUILD: `object.__setstate__(state)` for arrays and dtypes; a no-op for a dict with no state.
    mutating func build(_ cursor: PickleCursor, _ index: Int, _ state: PickleValue) throws {
        switch objects[index] {
        case .ndarray(nil):
            // ndarray.__setstate__((version, shape, dtype, is_fortran, rawdata)), version optional.
            var items = try tupleItems(cursor, state, "BUILD")
            if items.count == 5 { items.removeFirst() }
            guard items.count == 4 else { throw cursor.error(.badArray(detail: "state has \(items.count) fields, expected 4 or 5")) }
            let shape = try shape(cursor, items[0])
            let dtype = try numpyDType(cursor, items[1])
            let fortran: Bool
            switch items[2] {
            case let .bool(flag): fortran = flag
            case let .int(flag): fortran = flag != 0
            default: throw cursor.error(.badArray(detail: "is_fortran is not a bool"))
            }
            if case .object = items[3] {
                throw cursor.error(.unsupportedDType("object array"))
            }
            let bytes = try payload(cursor, items[3], "BUILD")
            objects[index] = .ndarray(try makeArray(cursor, dtype, shape: shape, fortran: fortran, payload: bytes))
        case var .dtype(dtype):
            // dtype.__setstate__((version, byteorder, subdescr, names, fields, elsize, alignment, flags)).
            let items = try tupleItems(cursor, state, "BUILD")
            guard items.count >= 2, case let .string(order) = items[1], let character = order.string.first,
                  order.string.count == 1, "<>|=".contains(character) else {
                throw cursor.error(.badOperand(opcode: "BUILD", detail: "dtype state has no byte order"))
            }
            for field in items.dropFirst(2).prefix(3) {
                guard case .none = field else { throw cursor.error(.unsupportedDType("structured dtype")) }
            }
            dtype.byteOrder = character
            objects[index] = .dtype(dtype)
        case .dict:
            guard case .none = state else {
                if case let .object(stateIndex) = state, case .dict = objects[stateIndex] { return }
                throw cursor.error(.badOperand(opcode: "BUILD", detail: "dict state is not None"))
            }
        case let other:
            throw cursor.error(.badOperand(opcode: "BUILD", detail: "cannot set the state of a \(other.typeName)"))
        }
    }

    /// `numpy.dtype(code)`: a type code with optional byte-order prefix.
    static func parseDType(_ cursor: PickleCursor, _ code: String) throws -> NumpyDType {
        var code = Substring(code)
        var order: Character = "="
        if let first = code.first, "<>|=".contains(first) {
            order = first
            code = code.dropFirst()
        }
        guard let dtype = DType(numpyCode: String(code)) else {
            throw cursor.error(.unsupportedDType(String(code.prefix(20))))
        }
        return NumpyDType(dtype: dtype, byteOrder: dtype.byteSize == 1 ? "|" : order)
    }

    /// A C-order little-endian array from numpy's payload (swapping bytes for `>` and
    /// transposing Fortran order, in one new buffer charged to the work budget).
    mutating func makeArray(_ cursor: PickleCursor, _ dtype: NumpyDType, shape: [Int], fortran: Bool, payload: Data) throws -> CheckpointArray {
        guard let count = CheckpointArray.elementCount(of: shape),
              case let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.dtype.byteSize),
              !overflow, byteCount == payload.count else {
            throw cursor.error(.badArray(detail: "\(payload.count) bytes do not hold \(dtype.dtype.numpyCode) of shape \(shape)"))
        }
        var bytes = payload
        #if _endian(little)
        let swap = dtype.byteOrder == ">" && dtype.dtype.byteSize > 1
        #else
        let swap = (dtype.byteOrder == "<" || dtype.byteOrder == "=") && dtype.dtype.byteSize > 1
        #endif
        let transpose = fortran && shape.count > 1 && count > 0
        if swap || transpose {
            try charge(cursor, payload.count, "reordering a \(payload.count)-byte array payload")
            bytes = transpose ? Unpickler.fortranToC(payload, shape: shape, size: dtype.dtype.byteSize) : Data(payload)
            if swap { Unpickler.swapBytes(&bytes, size: dtype.dtype.byteSize) }
        }
        do {
            return try CheckpointArray(dtype: dtype.dtype, shape: shape, bytes: bytes)
        } catch {
            throw cursor.error(.badArray(detail: "\(error)"))
        }
    }

    /// Reverses the bytes of each `size`-byte element of `data`, in place.
    static func swapBytes(_ data: inout Data, size: Int) {
        data.withUnsafeMutableBytes { raw in
            var i = 0
            while i + size <= raw.count {
                var low = i, high = i + size - 1
                while low < high { raw.swapAt(low, high); low += 1; high -= 1 }
                i += size
            }
        }
    }

    /// Reorders Fortran-order (first index fastest) elements into C order (last index fastest).
    static func fortranToC(_ data: Data, shape: [Int], size: Int) -> Data {
        let rank = shape.count
        var fortranStrides = [Int](repeating: size, count: rank)
        for axis in 1..<rank { fortranStrides[axis] = fortranStrides[axis - 1] * shape[axis - 1] }
        var out = Data(count: data.count)
        data.withUnsafeBytes { source in
            out.withUnsafeMutableBytes { destination in
                guard let from = source.baseAddress, let to = destination.baseAddress else { return }
                var index = [Int](repeating: 0, count: rank)
                var sourceOffset = 0
                var destinationOffset = 0
                while destinationOffset < destination.count {
                    (to + destinationOffset).copyMemory(from: from + sourceOffset, byteCount: size)
                    destinationOffset += size
                    var axis = rank - 1
                    while axis >= 0 {
                        index[axis] += 1
                        sourceOffset += fortranStrides[axis]
                        if index[axis] < shape[axis] { break }
                        sourceOffset -= fortranStrides[axis] * shape[axis]
                        index[axis] = 0
                        axis -= 1
                    }
                }
            }
        }
        return out
    }
}
