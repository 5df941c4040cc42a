import Foundation
import Testing
@testable import ZooKit

@Suite struct SafetensorsTests {
    static let intermediate = TestSupport.fixtures
        .appendingPathComponent("intermediates/tiny_mask_rcnn_R_50_FPN__img6_wide_960x300.safetensors")

    /// A scratch folder removed by the caller.
    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func readsTheFixtureIntermediates() throws {
        let file = try SafetensorsFile(contentsOf: Self.intermediate)
        #expect(file.names.count == 28)
        #expect(file.metadata["model"] == "tiny_mask_rcnn_R_50_FPN")
        #expect(file.metadata["image"] == "img6_wide_960x300.jpg")
        let p2 = try file.array("backbone.p2")
        #expect(p2.dtype == .float32)
        #expect(p2.shape == [1, 64, 48, 152])
        let dtypes = Set(try file.names.map { try file.array($0).dtype })
        #expect(dtypes == [.float32, .int64, .uint8])
        // int64 class ids convert to small whole floats.
        let classes = try file.tensor("det.classes")
        #expect(classes.shape == [20])
        #expect(classes.scalars.allSatisfy { $0 >= 0 && $0 < 3 && $0.rounded() == $0 })
        // float32 is copied bit for bit from the file.
        let raw = try Data(contentsOf: Self.intermediate)
        let headerLength = Int(raw.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        let entry = try #require(file.entries["backbone.p2"])
        let first = raw.withUnsafeBytes { Float(bitPattern: UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: entry.range.lowerBound, as: UInt32.self))) }
        #expect(entry.range.lowerBound >= 8 + headerLength)
        #expect(try file.tensor("backbone.p2").scalars[0] == first)
        #expect(throws: SafetensorsError.self) { try file.array("no.such.tensor") }
    }

    @Test func roundTripsEveryDTypeWithMetadata() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        var tensors: [(name: String, array: CheckpointArray)] = []
        for (index, dtype) in DType.allCases.enumerated() {
            let shape = [2, index % 3 + 1]
            let count = shape.reduce(1, *) * dtype.byteSize
            let bytes = Data((0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ index) })
            tensors.append(("t.\(dtype.rawValue)", try CheckpointArray(dtype: dtype, shape: shape, bytes: bytes)))
        }
        tensors.append(("scalar", try CheckpointArray(dtype: .float32, shape: [], bytes: Data([0, 0, 128, 63]))))
        tensors.append(("empty", try CheckpointArray(dtype: .float32, shape: [0, 3], bytes: Data())))
        let url = dir.appendingPathComponent("out.safetensors")
        let metadata = ["source": "a \"quoted\"\nname", "format": "pt"]
        try SafetensorsWriter.write(tensors, metadata: metadata, to: url)
        let file = try SafetensorsFile(contentsOf: url)
        #expect(file.metadata == metadata)
        #expect(Set(file.names) == Set(tensors.map(\.name)))
        for (name, array) in tensors {
            let read = try file.array(name)
            #expect(read.dtype == array.dtype && read.shape == array.shape && read.bytes == array.bytes, "\(name)")
            if let entry = file.entries[name], !entry.range.isEmpty {
                #expect(entry.range.lowerBound % array.dtype.byteSize == 0, "\(name) is aligned")
            }
        }
        #expect(try file.tensor("scalar").scalars == [1])
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(leftovers == ["out.safetensors"])
    }

    @Test func convertsHalfFloatsExactly() {
        #expect(CheckpointArray.halfToFloat(0x3C00) == 1)
        #expect(CheckpointArray.halfToFloat(0xC000) == -2)
        #expect(CheckpointArray.halfToFloat(0x0001) == Float(bitPattern: 0x3380_0000))
        #expect(CheckpointArray.halfToFloat(0x7C00) == .infinity)
        #expect(CheckpointArray.halfToFloat(0x7E00).isNaN)
        #expect(CheckpointArray.halfToFloat(0x7BFF) == 65504)
    }

    /// A file whose header is `json`, followed by `dataSize` zero bytes.
    static func file(header json: String, dataSize: Int = 16, headerLength: UInt64? = nil) -> Data {
        var data = Data()
        var length = (headerLength ?? UInt64(json.utf8.count)).littleEndian
        withUnsafeBytes(of: &length) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(json.utf8))
        data.append(Data(count: dataSize))
        return data
    }

    @Test(arguments: [
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", "overlap"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]}}", "outside"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", "needs a different count"),
        ("{\"a\":{\"dtype\":\"X9\",\"shape\":[2],\"data_offsets\":[0,8]}}", "X9"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", "shape"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", "outside"),
        ("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,8]}}", "needs a different count"),
        ("{\"__metadata__\":{\"k\":3}}", "__metadata__"),
        ("[1,2]", "not a JSON object"),
        ("{\"a\":", "not a JSON object"),
    ])
    func rejectsInvalidHeaders(header: String, message: String) {
        do {
            _ = try SafetensorsFile(data: Self.file(header: header), label: "bad.safetensors")
            Issue.record("accepted \(header)")
        } catch let error as SafetensorsError {
            #expect(error.description.contains(message), "\(error)")
            #expect(error.description.contains("bad.safetensors"))
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func rejectsShortFilesAndHugeHeaderLengths() {
        #expect(throws: SafetensorsError.self) { try SafetensorsFile(data: Data([1, 2, 3])) }
        #expect(throws: SafetensorsError.self) { try SafetensorsFile(data: Self.file(header: "{}", headerLength: 1 << 40)) }
        #expect(throws: SafetensorsError.self) { try SafetensorsFile(data: Self.file(header: "{}", headerLength: UInt64.max)) }
    }

    @Test func everyTruncationOfAValidFileIsAnErrorOrAPrefixOfIt() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("t.safetensors")
        let array = try CheckpointArray(dtype: .float32, shape: [3], bytes: Data(count: 12))
        try SafetensorsWriter.write([("x", array)], metadata: ["m": "v"], to: url)
        let whole = try Data(contentsOf: url)
        for length in 0..<whole.count {
            #expect(throws: SafetensorsError.self) { try SafetensorsFile(data: whole.prefix(length)) }
        }
        #expect(try SafetensorsFile(data: whole).names == ["x"])
    }

    @Test func aFailedWriteLeavesNoFile() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("missing/out.safetensors")
        #expect(throws: CheckpointError.self) {
            try SafetensorsWriter.write([], metadata: [:], to: url)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func repeatedOrReservedNamesAreErrorsAndNothingIsWritten() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("out.safetensors")
        let array = try CheckpointArray(dtype: .float32, shape: [1], bytes: Data(count: 4))
        let long = String(repeating: "k", count: 5000)
        #expect(throws: SafetensorsError.duplicateTensorName(file: url.path, name: long)) {
            try SafetensorsWriter.write([(long, array), ("y", array), (long, array)], metadata: [:], to: url)
        }
        #expect(throws: SafetensorsError.reservedTensorName(file: url.path)) {
            try SafetensorsWriter.write([("__metadata__", array)], metadata: [:], to: url)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
        let message = SafetensorsError.duplicateTensorName(file: url.path, name: long).description
        #expect(message.count < 400 && message.contains("5000 characters"))
    }

    @Test func namesFromFilesAreShownOnOneSafeLine() {
        #expect(displayText("res2.0.conv1.weight") == "res2.0.conv1.weight")
        #expect(displayText("a\nb\u{1b}[31m\0") == "a\\u{a}b\\u{1b}[31m\\u{0}")
        #expect(displayText("abcdef", limit: 3) == "abc... (6 characters)")
        #expect(displayText("a\u{2028}b\u{2029}") == "a\\u{2028}b\\u{2029}")
    }
}
