import Foundation
import Testing

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
