import Foundation
import Testing
@testable import ZooKit

@Suite struct CheckpointConverterTests {
    static let models = WeightManifest.models

    static func scratch() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-convert-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test(arguments: [("tiny_keypoint_rcnn_R_50_FPN", CheckpointLayout.detectron2), ("tiny_mask_rcnn_R_50_FPN_c2", .detectron)])
    func convertedFileLoadsToTheSameTensors(model: String, layout: CheckpointLayout) throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = Self.models.appendingPathComponent("\(model).pkl")
        let output = dir.appendingPathComponent("\(model).safetensors")
        let result = try CheckpointConverter.convert(source, to: output, modelID: "42", config: "X/y.yaml")
        #expect(result.layout == layout)
        let direct = try Checkpoint.loadWeights(from: source)
        let converted = try Checkpoint.loadWeights(from: output)
        #expect(converted.format == .safetensors && direct.format == .pickle)
        #expect(converted.layout == layout)
        #expect(converted.tensors == direct.tensors)
        #expect(converted.names.count == result.tensorCount)
        let file = try SafetensorsFile(contentsOf: output)
        #expect(file.metadata["source_file"] == "\(model).pkl")
        #expect(file.metadata["source_sha256"] == CheckpointDigest.sha256Hex(try Data(contentsOf: source)))
        #expect(file.metadata["source_layout"] == layout.rawValue)
        #expect(file.metadata["model_id"] == "42")
        #expect(file.metadata["config"] == "X/y.yaml")
        // File order is kept (state_dict order for the zoo file).
        if layout == .detectron2 { #expect(converted.names == direct.names) }
    }

    @Test func zooConversionIsBitIdenticalToTheManifest() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("m.safetensors")
        _ = try CheckpointConverter.convert(Self.models.appendingPathComponent("tiny_mask_rcnn_R_50_FPN.pkl"), to: output)
        let manifest = try WeightManifest.model("tiny_mask_rcnn_R_50_FPN")
        let weights = try Checkpoint.loadWeights(from: output)
        #expect(weights.tensors.count == manifest.entries.count)
        #expect(manifest.mismatches(weights.tensors).isEmpty)
    }

    @Test func aCorruptSourceLeavesNoOutput() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: dir) }
        let whole = try Data(contentsOf: Self.models.appendingPathComponent("pickle_variants/zoo_p3_numpy1.pkl"))
        let source = dir.appendingPathComponent("cut.pkl")
        try whole.prefix(whole.count / 2).write(to: source)
        let output = dir.appendingPathComponent("cut.safetensors")
        #expect(throws: PickleError.self) { try CheckpointConverter.convert(source, to: output) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["cut.pkl"])
        #expect(throws: CheckpointError.self) { try CheckpointConverter.convert(source, to: source) }
    }

    @Test func inspectionListsStoredTensors() throws {
        let zoo = try CheckpointInspection(contentsOf: Self.models.appendingPathComponent("tiny_faster_rcnn_R_50_FPN.pkl"))
        let manifest = try WeightManifest.model("tiny_faster_rcnn_R_50_FPN")
        #expect(zoo.format == "pickle" && zoo.pickleProtocol == 3 && zoo.layout == "detectron2")
        #expect(zoo.tensors.count == manifest.entries.count)
        #expect(zoo.parameterCount == manifest.entries.values.reduce(0) { $0 + $1.shape.reduce(1, *) })
        #expect(zoo.totalBytes == 4 * zoo.parameterCount)
        #expect(zoo.metadata["__author__"] != nil)
        let c2 = try CheckpointInspection(contentsOf: Self.models.appendingPathComponent("tiny_mask_rcnn_R_50_FPN_c2.pkl"))
        #expect(c2.tensors.count == 223)
        #expect(c2.tensors.filter { $0.detectron2Key == nil }.count == 22)
        #expect(c2.tensors.first { $0.name == "conv1_w" }?.detectron2Key == "backbone.bottom_up.stem.conv1.weight")
    }
}
