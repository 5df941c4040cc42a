import Foundation
import Testing
@testable import ZooKit

@Suite struct PickleReaderTests {
    static let variants = WeightManifest.models.appendingPathComponent("pickle_variants")

    @Test(arguments: ["zoo_p3_numpy1.pkl", "zoo_p2_py3.pkl", "zoo_p4_numpy2.pkl", "zoo_p5_numpy2.pkl"])
    func zooVariantsMatchExpected(file: String) throws {
        let expected = try WeightManifest.variants("zoo_files_model")
        let weights = try Checkpoint.loadWeights(from: Self.variants.appendingPathComponent(file))
        #expect(weights.layout == .detectron2)
        #expect(weights.tensors.count == 8)
        #expect(expected.mismatches(weights.tensors).isEmpty)
    }

    @Test func python2VariantBlobsMatchExpected() throws {
        let expected = try WeightManifest.variants("c2_py2_p2.pkl_blobs")
        let document = try PickleReader.read(contentsOf: Self.variants.appendingPathComponent("c2_py2_p2.pkl"))
        #expect(document.protocolVersion == 2)
        let root = try #require(document.dict(document.root))
        let blobs = try #require(root["blobs"].flatMap(document.dict))
        var tensors: [String: Tensor] = [:]
        for (key, value) in blobs.items {
            let name = try #require(document.string(key))
            tensors[name] = try document.array(value)?.floatTensor()
        }
        #expect(Set(tensors.keys).isSuperset(of: expected.entries.keys))
        #expect(expected.mismatches(tensors).isEmpty)
    }

    /// numpy pickles of every checkpoint dtype, both byte orders, C and Fortran order,
    /// protocols 0 to 5 (generated once with python3 + numpy, embedded in PickleCases.swift).
    @Test func everyDTypeOrderAndProtocol() throws {
        #expect(PickleCases.all.count > 150)
        for (name, base64, arrays) in PickleCases.all {
            let data = try #require(Data(base64Encoded: base64), "\(name)")
            let document = try PickleReader.read(data: data, label: name)
            let root = try #require(document.dict(document.root), "\(name)")
            #expect(root.items.count == arrays.count, "\(name)")
            for (key, expected) in arrays {
                let array = try #require(root[key].flatMap(document.array), "\(name) \(key)")
                #expect(array.dtype == DType(numpyCode: expected.code), "\(name) \(key)")
                #expect(array.shape == expected.shape, "\(name) \(key)")
                let tensor = try array.floatTensor()
                #expect(tensor.scalars == expected.values, "\(name) \(key)")
            }
        }
    }

    @Test func orderedDictKeepsInsertionOrder() throws {
        let (_, base64, _) = try #require(PickleCases.all.first { $0.name == "ordered_p2" })
        let document = try PickleReader.read(data: try #require(Data(base64Encoded: base64)))
        let root = try #require(document.dict(document.root))
        #expect(root.items.compactMap { document.string($0.key) } == ["b", "a", "s"])
    }

    /// Reads a protocol 0 pickle given as text.
    static func read(_ text: String) throws -> PickleDocument {
        try PickleReader.read(data: Data(text.utf8), label: "case.pkl")
    }

    @Test func python2Protocol0Strings() throws {
        let document = try Self.read("(dp0\nS'key'\np1\nS'\\x00\\x7f\\n\\'q\\'\\\\'\np2\nsS\"k2\"\nI01\ns.")
        let root = try #require(document.dict(document.root))
        guard case let .string(text)? = root["key"] else { Issue.record("no key"); return }
        #expect(text.isLatin1)
        #expect([UInt8](text.raw) == [0x00, 0x7F, 0x0A, 0x27, 0x71, 0x27, 0x5C])
        guard case .bool(true)? = root["k2"] else { Issue.record("I01 is True"); return }
    }

    @Test func scalarsAndContainers() throws {
        // [None, True, -5, 2**70, 1.5, 'é', b'\x01', (1,), {2}] written by hand in protocol 2/4 opcodes.
        var bytes: [UInt8] = [0x80, 0x04, 0x5D, 0x28, 0x4E, 0x88, 0x4A]
        bytes += withUnsafeBytes(of: Int32(-5).littleEndian, Array.init)
        bytes += [0x8A, 0x09] + [UInt8](repeating: 0, count: 8) + [0x40]  // LONG1 2**70
        bytes += [0x47] + withUnsafeBytes(of: (1.5 as Double).bitPattern.bigEndian, Array.init)
        bytes += [0x8C, 0x02, 0xC3, 0xA9]  // SHORT_BINUNICODE 'é'
        bytes += [0x43, 0x01, 0x01]  // SHORT_BINBYTES
        bytes += [0x4B, 0x01, 0x85]  // (1,)
        bytes += [0x8F, 0x28, 0x4B, 0x02, 0x90]  // {2}
        bytes += [0x65, 0x2E]  // APPENDS, STOP
        let document = try PickleReader.read(data: Data(bytes))
        guard case let .object(index) = document.root, case let .list(items) = document.objects[index] else {
            Issue.record("root is not a list"); return
        }
        #expect(items.count == 9)
        guard items.count == 9 else { return }
        if case .none = items[0] {} else { Issue.record("None") }
        if case .bool(true) = items[1] {} else { Issue.record("True") }
        if case .int(-5) = items[2] {} else { Issue.record("-5") }
        if case .largeInt = items[3] {} else { Issue.record("2**70") }
        if case .float(1.5) = items[4] {} else { Issue.record("1.5") }
        #expect(document.string(items[5]) == "é")
        if case let .bytes(data) = items[6] { #expect([UInt8](data) == [1]) } else { Issue.record("bytes") }
        #expect(document.typeName(items[7]) == "tuple")
        #expect(document.typeName(items[8]) == "set")
    }

    @Test(arguments: [
        ("cos\nsystem\n(S'echo hi'\ntR.", "global 'os.system'", 0),
        ("\u{80}\u{02}cbuiltins\neval\n.", "global 'builtins.eval'", 2),
        ("(S'x'\nios\nsystem\n.", "INST", 6),
        ("(o.", "OBJ", 1),
        ("P1\n.", "PERSID", 0),
        ("\u{82}\u{01}.", "EXT1", 0),
        ("N\u{FF}", "unknown pickle opcode", 1),
        ("(lp0\ng7\n.", "memo index 7", 5),
        ("\u{80}\u{07}N.", "protocol 7", 0),
        ("N", "file ends early", 1),
        ("", "file ends early", 0),
        (".", "stack", 0),
        ("Na.", "stack", 1),
        ("NNa.", "not a container", 2),
        ("Nt.", "MARK", 1),
        ("(NNNd.", "odd number", 4),
        ("I12x\n.", "not an integer", 0),
        ("cnumpy\ndtype\n(VO\ntR.", "numpy dtype 'O'", 18),
    ])
    func refusesHostileInput(text: String, message: String, offset: Int) {
        // Bytes above 0x7F are meant as single bytes, not UTF-8.
        let data = Data(text.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
        do {
            let document = try PickleReader.read(data: data, label: "evil.pkl")
            Issue.record("accepted: root \(document.typeName(document.root))")
        } catch let error as PickleError {
            #expect(error.description.contains(message), "\(error)")
            #expect(error.offset == offset, "\(error)")
            #expect(error.description.hasPrefix("evil.pkl: byte \(offset): "))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func lengthsLargerThanTheFileAreRefusedBeforeAllocating() {
        for opcode: UInt8 in [0x42, 0x58, 0x54] {  // BINBYTES, BINUNICODE, BINSTRING: 4-byte length
            #expect(throws: PickleError.self) { try PickleReader.read(data: Data([0x80, 0x03, opcode, 0xFF, 0xFF, 0xFF, 0x7F, 0x2E])) }
        }
        for opcode: UInt8 in [0x8D, 0x8E, 0x96, 0x95] {  // 8-byte lengths, FRAME
            #expect(throws: PickleError.self) { try PickleReader.read(data: Data([0x80, 0x04, opcode] + [UInt8](repeating: 0xFF, count: 8) + [0x4E, 0x2E])) }
        }
        // BINSTRING with a negative length.
        #expect(throws: PickleError.self) { try PickleReader.read(data: Data([0x54, 0xFF, 0xFF, 0xFF, 0xFF, 0x2E])) }
        // LONG4 with a length beyond the file.
        #expect(throws: PickleError.self) { try PickleReader.read(data: Data([0x8B, 0x00, 0x00, 0x00, 0x40, 0x2E])) }
    }

    @Test func arrayPayloadsMustMatchTheirShape() throws {
        // The zoo variant with its first array's shape changed is refused, not misread.
        let url = Self.variants.appendingPathComponent("zoo_p3_numpy1.pkl")
        var data = try Data(contentsOf: url)
        // BUILD state (1, (16,), ...): change the first BININT1 16 after "_reconstruct" to 17.
        let marker = Data("_reconstruct".utf8)
        let start = try #require(data.range(of: marker)).upperBound
        let sixteen = try #require(data[start...].firstRange(of: Data([0x4B, 0x10])))
        data[sixteen.lowerBound + 1] = 17
        #expect(throws: PickleError.self) { try PickleReader.read(data: data) }
    }

    @Test func deepNestingAndCyclesNeitherCrashNorHang() throws {
        // 200 000 lists each appended into the previous one through the memo: a chain 200 000 deep.
        var bytes: [UInt8] = [0x80, 0x04]
        let depth = 200_000
        for _ in 0..<depth { bytes += [0x5D, 0x94, 0x30] }  // EMPTY_LIST, MEMOIZE, POP
        for i in 0..<(depth - 1) {
            bytes += [0x6A] + withUnsafeBytes(of: UInt32(i).littleEndian, Array.init)
            bytes += [0x6A] + withUnsafeBytes(of: UInt32(i + 1).littleEndian, Array.init)
            bytes += [0x61, 0x30]  // APPEND, POP
        }
        bytes += [0x68, 0x00, 0x68, 0x00, 0x61, 0x2E]  // a list containing itself, STOP
        let document = try PickleReader.read(data: Data(bytes))
        #expect(document.objects.count == depth)
        // 100 000 nested 1-tuples built straight on the stack.
        let tuples = Data([0x80, 0x02, 0x4E] + [UInt8](repeating: 0x85, count: 100_000) + [0x2E])
        #expect(try PickleReader.read(data: tuples).objects.count == 100_000)
        // Neither is a checkpoint.
        #expect(throws: CheckpointError.self) { try PickleCheckpoint.contents(of: document, file: "deep.pkl") }
    }

    @Test func everyTruncationIsAnError() throws {
        let data = try Data(contentsOf: Self.variants.appendingPathComponent("zoo_p4_numpy2.pkl"))
        var lengths = Array(stride(from: 0, to: data.count, by: 101))
        lengths += (max(0, data.count - 300)..<data.count)
        for length in lengths {
            #expect(throws: PickleError.self, "length \(length)") { try PickleReader.read(data: data.prefix(length)) }
        }
    }
}
