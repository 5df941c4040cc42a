import Foundation
import Testing
@testable import ZooKit

/// `zoo convert` and `zoo inspect` run as a user would (needs the built `zoo` binary).
@Suite struct CheckpointCommandTests {
    static let models = TestSupport.fixtures.appendingPathComponent("models")

    @Test func convertThenInspect() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let output = dir.appendingPathComponent("c2.safetensors").path
        let convert = try TestSupport.runZoo(["convert", Self.models.appendingPathComponent("tiny_mask_rcnn_R_50_FPN_c2.pkl").path, "-o", output])
        #expect(convert.status == 0, "\(convert.stderr)")
        #expect(convert.stdout == output + "\n")
        #expect(convert.stderr.contains("307 tensors"))

        let table = try TestSupport.runZoo(["inspect", output])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("layout:     detectron (caffe2)"))
        #expect(table.stdout.contains("backbone.bottom_up.res5.2.conv3.norm.running_var"))

        let json = try TestSupport.runZoo(["inspect", "--json", Self.models.appendingPathComponent("tiny_mask_rcnn_R_50_FPN.pkl").path])
        #expect(json.status == 0, "\(json.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["layout"] as? String == "detectron2")
        #expect((object?["tensors"] as? [Any])?.count == 312)
        #expect(object?["pickle_protocol"] as? Int == 3)
    }

    @Test func refusesMaliciousPickleWithOneLine() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let evil = dir.appendingPathComponent("evil.pkl")
        try Data("cos\nsystem\n(S'touch \(dir.path)/pwned'\ntR.".utf8).write(to: evil)
        for command in [["convert", evil.path], ["inspect", evil.path]] {
            let run = try TestSupport.runZoo(command)
            #expect(run.status == 1)
            #expect(run.stderr.contains("'os.system' is not on the allow-list"), "\(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["evil.pkl"])
    }
}

/// `zoo convert ID`: a fetched entry (test index via ZOO_INDEX, cache via ZOO_CACHE) is converted
/// next to its cached file.
@Suite struct ConvertByIDTests {
    @Test func anUnknownSourceIsOneLineNamingIt() throws {
        let r = try TestSupport.runZoo(["convert", "no-such-model-or-file"])
        #expect(r.status == 1)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines.first?.hasPrefix("zoo convert: no-such-model-or-file: no such file") == true, "\(r.stderr)")
    }

    @Test func convertsTheCachedFileOfAnEntry() throws {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-convert-id-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let id = "test-\(UUID().uuidString.prefix(8))"
        let url = "https://dl.fbaipublicfiles.com/detectron2/Test/\(id)/1/model_final_7b9153.pkl"
        let indexFile = work.appendingPathComponent("index.json")
        try Data("""
            {"entries": [{"id": "\(id)", "config": "Test/\(id).yaml", "weights_url": "\(url)", "md5_prefix": "7b9153"}]}
            """.utf8).write(to: indexFile)
        let cacheRoot = work.appendingPathComponent("cache")
        let environment = ["ZOO_CACHE": cacheRoot.path, "ZOO_INDEX": indexFile.path]

        let missing = try TestSupport.runZoo(["convert", id], environment: environment)
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("zoo fetch \(id)"), "\(missing.stderr)")

        // Put the tiny Mask R-CNN in the cache as `zoo fetch` would, with its manifest record.
        let source = TestSupport.fixtures.appendingPathComponent("models/tiny_mask_rcnn_R_50_FPN.pkl")
        let cached = cacheRoot.appendingPathComponent(ModelCache.relativePath(forURL: url))
        try FileManager.default.createDirectory(at: cached.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: source, to: cached)
        let bytes = try Data(contentsOf: source)
        let sha256 = CheckpointDigest.sha256Hex(bytes)
        let record: [String: Any] = [
            "path": ModelCache.relativePath(forURL: url), "url": url, "size": bytes.count, "sha256": sha256,
            "md5": "7b9153e196d48bce4c8742f0af01cc14", "pinned": false, "verifiedAt": "2026-11-27T00:00:00Z",
        ]
        try JSONSerialization.data(withJSONObject: [record]).write(to: cacheRoot.appendingPathComponent("manifest.json"))

        let run = try TestSupport.runZoo(["convert", id], environment: environment)
        #expect(run.status == 0, "\(run.stderr)")
        let output = cached.deletingPathExtension().appendingPathExtension("safetensors")
        #expect(run.stdout == output.path + "\n")
        let file = try SafetensorsFile(contentsOf: output)
        #expect(file.metadata["model_id"] == id)
        #expect(file.metadata["config"] == "Test/\(id).yaml")
        #expect(file.metadata["source_sha256"] == sha256)
        #expect(file.metadata["source_file"] == "model_final_7b9153.pkl")
        #expect(file.names.count == 312)
    }
}
