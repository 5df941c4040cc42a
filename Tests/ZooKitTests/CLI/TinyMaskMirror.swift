import Foundation

/// A scratch folder with a `file://` mirror of the fixtures' tiny Mask R-CNN and an index whose
/// `tiny-mask` entry is fetched from it, and the environment that points `zoo` at both (and at a
/// cache inside the folder): `zoo run tiny-mask` without the network.
struct TinyMaskMirror {
    let work: URL
    let environment: [String: String]

    /// A new folder under the temporary directory named `prefix-<uuid>`.
    init(prefix: String) throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        let models = TestSupport.fixtures.appendingPathComponent("models")
        let mirrorDir = work.appendingPathComponent("mirror/zoo-tests/tiny")
        try FileManager.default.createDirectory(at: mirrorDir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: models.appendingPathComponent("tiny_mask_rcnn_R_50_FPN.pkl"),
                                         to: mirrorDir.appendingPathComponent("tiny_mask_rcnn_R_50_FPN.pkl"))
        let index = """
            {"entries": [{"id": "tiny-mask", "config": "Tiny/tiny_mask_rcnn_R_50_FPN.yaml",
              "task": "instance_segmentation", "dataset": "tiny_shapes", "layout": "detectron2",
              "weights_url": "https://dl.fbaipublicfiles.com/zoo-tests/tiny/tiny_mask_rcnn_R_50_FPN.pkl"}]}
            """
        let indexFile = work.appendingPathComponent("index.json")
        try index.write(to: indexFile, atomically: true, encoding: .utf8)
        environment = ["ZOO_INDEX": indexFile.path, "ZOO_CACHE": work.appendingPathComponent("cache").path,
                       "ZOO_MIRROR": "file://" + work.appendingPathComponent("mirror").path + "/"]
    }
}
