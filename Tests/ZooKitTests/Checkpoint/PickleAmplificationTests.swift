import Foundation
import Testing
@testable import ZooKit

/// Tiny hostile pickles that reuse memoized values to multiply memory or work (one array under
/// many keys, one payload decoded or reordered again and again, huge or repeated dict keys): each
/// must be refused with its specific error, quickly and without allocating much more than the
/// input. Every pickle is built here opcode by opcode.
@Suite struct PickleAmplificationTests {
    /// A protocol 2 pickle under construction.
    struct Builder {
        var bytes: [UInt8] = [0x80, 0x02]
        var data: Data { Data(bytes) }

        mutating func op(_ opcodes: UInt8...) { bytes += opcodes }
        mutating func u32(_ value: UInt32) { bytes += withUnsafeBytes(of: value.littleEndian, Array.init) }
        /// BININT.
        mutating func int(_ value: Int32) { op(0x4A); bytes += withUnsafeBytes(of: value.littleEndian, Array.init) }
        /// BINUNICODE.
        mutating func unicode(_ text: String) { op(0x58); u32(UInt32(text.utf8.count)); bytes += Array(text.utf8) }
        /// BINUNICODE of `count` copies of an ASCII byte.
        mutating func unicode(repeating byte: UInt8, count: Int) { op(0x58); u32(UInt32(count)); bytes += [UInt8](repeating: byte, count: count) }
        /// BINSTRING (a Python 2 str, latin-1) of `count` copies of `byte`.
        mutating func binstring(repeating byte: UInt8, count: Int) { op(0x54); u32(UInt32(count)); bytes += [UInt8](repeating: byte, count: count) }
        /// BINBYTES of `count` zero bytes.
        mutating func binbytes(count: Int) { op(0x42); u32(UInt32(count)); bytes += [UInt8](repeating: 0, count: count) }
        /// GLOBAL.
        mutating func global(_ module: String, _ name: String) { op(0x63); bytes += Array("\(module)\n\(name)\n".utf8) }
        /// LONG_BINPUT then POP: stores the top of the stack in the memo and drops it.
        mutating func store(_ index: UInt32) { op(0x72); u32(index); op(0x30) }
        /// LONG_BINGET.
        mutating func get(_ index: UInt32) { op(0x6A); u32(index) }
        /// `numpy.dtype(code)`.
        mutating func dtype(_ code: String) { global("numpy", "dtype"); unicode(code); op(0x85, 0x52) }

        /// Memo 0: `_reconstruct`; 1: its arguments `(ndarray, (0,), b'b')`; 2: the BUILD state of
        /// a little-endian float32 array of `count` elements over one `4 * count`-byte payload.
        /// `makeArray()` then costs 12 bytes.
        mutating func memoizeArrayRecipe(count: Int32) {
            global("numpy.core.multiarray", "_reconstruct")
            store(0)
            global("numpy", "ndarray")
            op(0x4B, 0x00, 0x85, 0x43, 0x01, 0x62, 0x87)  // (0,), b'b', TUPLE3
            store(1)
            op(0x28, 0x4B, 0x01)  // MARK, version 1
            int(count)
            op(0x85)  // shape (count,)
            dtype("<f4")
            op(0x89)  // not Fortran
            binbytes(count: Int(count) * 4)
            op(0x74)  // TUPLE
            store(2)
        }

        /// `_reconstruct(*args)` then BUILD with the memoized state: a new array object.
        mutating func makeArray() { get(0); get(1); op(0x52); get(2); op(0x62) }
    }

    /// The `PickleError` reading `data` throws, or nil (recorded as an issue) if it is accepted.
    static func readError(_ data: Data, label: String = "evil.pkl") -> PickleError? {
        do {
            let document = try PickleReader.read(data: data, label: label)
            Issue.record("accepted: root \(document.typeName(document.root))")
        } catch let error as PickleError {
            #expect(error.description.hasPrefix("\(label): byte \(error.offset): "))
            #expect(!error.description.contains("\n"))
            return error
        } catch {
            Issue.record("unexpected \(error)")
        }
        return nil
    }

    // MARK: Finding 1: one array under many keys.

    /// Caffe2-style `{"a_bn_s": A, "a1_bn_s": A, ..., "a999_bn_s": A}` with A one 128 KiB
    /// array object: every `_bn_s` key would get its own running_mean/var and float copy.
    static func aliasedArrayPickle() -> Data {
        var pickle = Builder()
        pickle.memoizeArrayRecipe(count: 32_768)
        pickle.op(0x7D, 0x28)  // EMPTY_DICT, MARK
        pickle.unicode("a_bn_s")
        pickle.makeArray()
        pickle.op(0x72); pickle.u32(3)  // LONG_BINPUT 3: A
        for i in 1..<1000 {
            pickle.unicode("a\(i)_bn_s")
            pickle.get(3)
        }
        pickle.op(0x75, 0x2E)  // SETITEMS, STOP
        return pickle.data
    }

    @Test func oneArrayUnderManyKeysIsRefused() throws {
        let data = Self.aliasedArrayPickle()
        #expect(data.count < 200_000)
        // The reader keeps one array (a slice of the input); the checkpoint step refuses the alias.
        let document = try PickleReader.read(data: data, label: "alias.pkl")
        do {
            let contents = try PickleCheckpoint.contents(of: document, file: "alias.pkl")
            Issue.record("accepted \(contents.arrays.count) arrays")
        } catch let CheckpointError.sharedArray(file, key, otherKey) {
            #expect(file == "alias.pkl" && key == "a1_bn_s" && otherKey == "a_bn_s")
            let message = CheckpointError.sharedArray(file: file, key: key, otherKey: otherKey).description
            #expect(message.hasPrefix("alias.pkl: keys 'a_bn_s' and 'a1_bn_s' hold the same array object"))
        }
    }

    @Test func inspectAndLoadRefuseTheAliasedFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-alias-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("alias.pkl")
        try Self.aliasedArrayPickle().write(to: url)
        for attempt in ["inspect", "load", "convert"] {
            do {
                switch attempt {
                case "inspect": _ = try CheckpointInspection(contentsOf: url)
                case "load": _ = try Checkpoint.loadWeights(from: url)
                default: _ = try CheckpointConverter.convert(url, to: dir.appendingPathComponent("alias.safetensors"))
                }
                Issue.record("\(attempt) accepted the aliased file")
            } catch let CheckpointError.sharedArray(file, _, _) {
                #expect(file == url.path)
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["alias.pkl"])
    }

    @Test func manyArraysOverOnePayloadAreRefused() throws {
        // 200 distinct array objects, each BUILT from the same memoized 128 KiB payload.
        var pickle = Builder()
        pickle.memoizeArrayRecipe(count: 32_768)
        pickle.op(0x7D, 0x28)
        for i in 0..<200 {
            pickle.unicode("w\(i)")
            pickle.makeArray()
        }
        pickle.op(0x75, 0x2E)
        let data = pickle.data
        let document = try PickleReader.read(data: data, label: "shared.pkl")
        do {
            _ = try PickleCheckpoint.contents(of: document, file: "shared.pkl")
            Issue.record("accepted")
        } catch let CheckpointError.arraysExceedFile(file, key, total, fileSize) {
            #expect(file == "shared.pkl" && key == "w1" && total == 2 * 131_072 && fileSize == data.count)
        }
    }

    @Test func distinctArraysWithinTheFileSizeStillLoad() throws {
        // Two arrays, each with its own payload: the same recipe, not shared.
        var pickle = Builder()
        pickle.op(0x7D, 0x28)
        for i in 0..<2 {
            pickle.memoizeArrayRecipe(count: 1024)
            pickle.unicode("w\(i)")
            pickle.makeArray()
        }
        pickle.op(0x75, 0x2E)
        let document = try PickleReader.read(data: pickle.data, label: "ok.pkl")
        let contents = try PickleCheckpoint.contents(of: document, file: "ok.pkl")
        #expect(contents.arrays.map(\.name) == ["w0", "w1"])
    }

    // MARK: Finding 2: one payload decoded or reordered once per REDUCE.

    /// Memo 0: `callable`; memo 1: its arguments (built by `arguments`); then `rounds` of
    /// `callable(*arguments)` dropped at once (12 bytes each), then None.
    static func repeatedCall(_ callable: (String, String), rounds: Int, arguments: (inout Builder) -> Void) -> Data {
        var pickle = Builder()
        pickle.global(callable.0, callable.1)
        pickle.store(0)
        arguments(&pickle)
        pickle.store(1)
        for _ in 0..<rounds {
            pickle.get(0); pickle.get(1); pickle.op(0x52, 0x30)  // REDUCE, POP
        }
        pickle.op(0x4E, 0x2E)
        return pickle.data
    }

    @Test(arguments: ["latin1 of UTF-8 text", "utf8 of a Python 2 str", ">f4 Fortran _frombuffer"])
    func repeatedDecodingIsRefused(kind: String) throws {
        // 64 rounds over a 256 KiB payload: 16-32 MiB of copies from a ~260 KiB file.
        let data: Data
        switch kind {
        case "latin1 of UTF-8 text":
            data = Self.repeatedCall(("_codecs", "encode"), rounds: 64) {
                $0.unicode(repeating: 0x61, count: 262_144)
                $0.unicode("latin1")
                $0.op(0x86)
            }
        case "utf8 of a Python 2 str":
            data = Self.repeatedCall(("_codecs", "encode"), rounds: 64) {
                $0.binstring(repeating: 0xE9, count: 262_144)
                $0.unicode("utf8")
                $0.op(0x86)
            }
        default:
            data = Self.repeatedCall(("numpy._core.numeric", "_frombuffer"), rounds: 64) {
                $0.op(0x28)
                $0.binbytes(count: 262_144)
                $0.dtype(">f4")
                $0.int(256); $0.int(256); $0.op(0x86)
                $0.unicode("F")
                $0.op(0x74)
            }
        }
        #expect(data.count < 270_000)
        let error = try #require(Self.readError(data))
        guard case let .excessiveWork(_, limit) = error.kind else { Issue.record("\(error)"); return }
        #expect(limit == 2 * data.count + (1 << 20))
        #expect(data[error.offset] == 0x52, "refused at a REDUCE")
    }

    @Test func decodingEachPayloadOnceIsWithinTheBudget() throws {
        // The worst a real pickle does: 8 big-endian Fortran arrays whose payloads are UTF-8 text
        // (protocol 2 from Python 3), each decoded and then reordered once: two copies per
        // payload byte, none shared.
        var pickle = Builder()
        pickle.memoizeArrayRecipe(count: 1)
        pickle.op(0x5D, 0x28)  // EMPTY_LIST, MARK
        for _ in 0..<8 {
            pickle.get(0); pickle.get(1); pickle.op(0x52)
            pickle.op(0x28, 0x4B, 0x01)
            pickle.int(256); pickle.int(256); pickle.op(0x86)
            pickle.dtype(">f4")
            pickle.op(0x88)  // Fortran order
            pickle.global("_codecs", "encode")
            pickle.unicode(repeating: 0x61, count: 262_144)
            pickle.unicode("latin1")
            pickle.op(0x86, 0x52, 0x74, 0x62)  // TUPLE2, REDUCE, TUPLE, BUILD
        }
        pickle.op(0x65, 0x2E)  // APPENDS, STOP
        let document = try PickleReader.read(data: pickle.data)
        guard case let .object(index) = document.root, case let .list(items) = document.objects[index] else {
            Issue.record("root is not a list"); return
        }
        #expect(items.count == 8)
        let first = try #require(items.first.flatMap(document.array))
        #expect(first.shape == [256, 256] && first.bytes.allSatisfy { $0 == 0x61 })
    }

    @Test func repeatedOrderedDictItemsAreRefused() throws {
        // OrderedDict([(1, None)] * 20000) built 64 times from one memoized list (~40 KiB).
        var pickle = Builder()
        pickle.global("collections", "OrderedDict")
        pickle.store(0)
        pickle.op(0x4B, 0x01, 0x4E, 0x86, 0x71, 0x02, 0x30)  // (1, None), BINPUT 2, POP
        pickle.op(0x5D, 0x28)
        for _ in 0..<20_000 { pickle.op(0x68, 0x02) }  // BINGET 2
        pickle.op(0x65, 0x85)  // APPENDS, TUPLE1
        pickle.store(1)
        for _ in 0..<64 { pickle.get(0); pickle.get(1); pickle.op(0x52, 0x30) }
        pickle.op(0x4E, 0x2E)
        let error = try #require(Self.readError(pickle.data))
        guard case .excessiveWork = error.kind else { Issue.record("\(error)"); return }
    }

    // MARK: Findings 3 and 4: long keys, and keys hashed again and again.

    @Test(arguments: ["SETITEM", "SETITEMS", "DICT", "OrderedDict"])
    func keysOverTheLimitAreRefused(opcode: String) throws {
        var pickle = Builder()
        func key() { pickle.unicode(repeating: 0x6B, count: 8192) }
        switch opcode {
        case "SETITEM": pickle.op(0x7D); key(); pickle.op(0x4E, 0x73)
        case "SETITEMS": pickle.op(0x7D, 0x28); key(); pickle.op(0x4E, 0x75)
        case "DICT": pickle.op(0x28); key(); pickle.op(0x4E, 0x64)
        default:
            pickle.global("collections", "OrderedDict")
            pickle.op(0x5D); key(); pickle.op(0x4E, 0x86, 0x61, 0x85, 0x52)  // [(key, None)], TUPLE1, REDUCE
        }
        pickle.op(0x2E)
        let error = try #require(Self.readError(pickle.data))
        #expect(error.kind == .keyTooLong(length: 8192, limit: 4096))
        #expect(error.description.contains("8192 bytes is longer than the 4096-byte limit"))
    }

    @Test func aLongKeyReusedThroughTheMemoIsRefusedAtItsFirstUse() throws {
        // One 1 MiB key, memoized, then 1000 pairs of BINGET key, BINGET array.
        var pickle = Builder()
        pickle.memoizeArrayRecipe(count: 4)
        pickle.unicode(repeating: 0x6B, count: 1 << 20)
        pickle.store(3)
        pickle.op(0x7D, 0x28)
        pickle.makeArray()
        pickle.store(4)
        for _ in 0..<1000 { pickle.get(3); pickle.get(4) }
        pickle.op(0x75, 0x2E)
        let error = try #require(Self.readError(pickle.data))
        #expect(error.kind == .keyTooLong(length: 1 << 20, limit: 4096))
    }

    @Test func keysAtTheLimitAreAccepted() throws {
        var pickle = Builder()
        pickle.op(0x7D)
        pickle.unicode(repeating: 0x6B, count: 4096)
        pickle.op(0x4E, 0x73, 0x2E)
        let document = try PickleReader.read(data: pickle.data)
        #expect(document.dict(document.root)?.items.count == 1)
    }

    @Test func aKeyJustUnderTheLimitHashedAgainAndAgainIsRefused() throws {
        // A 4000-byte key memoized, then set 2000 times (3 bytes each): 8 MB hashed from 10 KB.
        var pickle = Builder()
        pickle.op(0x7D)
        pickle.unicode(repeating: 0x6B, count: 4000)
        pickle.op(0x71, 0x00, 0x4E, 0x73, 0x28)  // BINPUT 0, None, SETITEM, MARK
        for _ in 0..<2000 { pickle.op(0x68, 0x00, 0x4E) }
        pickle.op(0x75, 0x2E)
        let error = try #require(Self.readError(pickle.data))
        guard case .excessiveWork = error.kind else { Issue.record("\(error)"); return }
        #expect(pickle.data[error.offset] == 0x75, "refused at SETITEMS")
    }

    // MARK: Finding 5: safetensors headers the reader would refuse.

    @Test func headersAboveTheReaderLimitAreNotWritten() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-header-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("out.safetensors")
        let array = try CheckpointArray(dtype: .float32, shape: [1], bytes: Data(count: 4))
        let tensors = (0..<4).map { (name: "tensor.\($0)", array: array) }
        let full = SafetensorsWriter.headerBytes(tensors, metadata: [:]).count
        #expect(throws: SafetensorsError.headerTooLarge(file: url.path, length: full, limit: full - 1)) {
            try SafetensorsWriter.write(tensors, metadata: [:], to: url, headerLimit: full - 1)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        // At the limit it is written, and the reader's limit is the writer's.
        try SafetensorsWriter.write(tensors, metadata: [:], to: url, headerLimit: full)
        #expect(try SafetensorsFile(contentsOf: url).names.count == 4)
        #expect(SafetensorsFile.headerLimit == 100_000_000)
        let message = SafetensorsError.headerTooLarge(file: "x.safetensors", length: 200_000_008, limit: 100_000_000).description
        #expect(message.hasPrefix("x.safetensors: not written: the header"))
    }
}
