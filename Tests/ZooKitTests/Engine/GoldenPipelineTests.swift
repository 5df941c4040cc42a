import Foundation
import Testing
@testable import ZooKit

/// The whole engine on every fixture image against detectron2's goldens (fixtures README section 7).
@Suite struct GoldenPipelineTests {
    static let images = ["img1_320x480.png", "img2_457x333.jpg", "img3_640x427.png", "img4_gray_500x375.png",
                         "img5_tiny_64x48.png", "img6_wide_960x300.jpg"]
    static let classNames: [String: [String]] = [
        "tiny_faster_rcnn_R_50_FPN": ["circle", "square", "triangle"],
        "tiny_mask_rcnn_R_50_FPN": ["circle", "square", "triangle"],
        "tiny_keypoint_rcnn_R_50_FPN": ["kite"],
    ]

    /// Models are built once per weights file and config.
    static let cache = ModelCache()
    final class ModelCache: @unchecked Sendable {
        private var models: [String: GeneralizedRCNN] = [:]
        private let lock = NSLock()
        func model(config: String, weights: String) throws -> GeneralizedRCNN {
            lock.lock()
            defer { lock.unlock() }
            let key = config + "|" + weights
            if let m = models[key] { return m }
            let dir = TestSupport.fixtures.appendingPathComponent("models")
            let cfg = try RCNNConfig.load(contentsOf: dir.appendingPathComponent(config + ".yaml"))
            let w = try Checkpoint.loadWeights(from: dir.appendingPathComponent(weights))
            let m = try GeneralizedRCNN(config: cfg, weights: w.tensors, algorithm: .direct)
            models[key] = m
            return m
        }
    }

    /// The model input for a fixture image: JPEGs through their losslessly stored decoded pixels, so
    /// a decoder difference cannot hide or fake a model difference.
    static func image(_ name: String) throws -> Image8 {
        let dir = TestSupport.fixtures.appendingPathComponent("images")
        let url = name.hasSuffix(".jpg") ? dir.appendingPathComponent("decoded/\(name).png") : dir.appendingPathComponent(name)
        return try ImageDecoder.decode(contentsOf: url, format: "BGR")
    }

    static func check(model: String, config: String, weights: String, image: String) throws -> [String] {
        let net = try cache.model(config: config, weights: weights)
        let prediction = try net.predict(try Self.image(image))
        let record = PredictionRecord(prediction: prediction, config: net.config, model: model, weights: weights,
                                      configName: config, image: image, classNames: classNames[model] ?? [])
        let candidate = try JSONSerialization.jsonObject(with: try record.jsonLine()) as? [String: Any] ?? [:]
        #expect(candidate["precision"] == nil, "float32 records keep the goldens' schema")
        let stem = (image as NSString).deletingPathExtension
        let goldenURL = TestSupport.fixtures.appendingPathComponent("golden/\(model)__\(stem).json")
        let golden = try JSONSerialization.jsonObject(with: Data(contentsOf: goldenURL)) as? [String: Any] ?? [:]
        // The record carries the golden schema's preprocessing and threshold facts, with the same values.
        let pre = golden["preprocess"] as? [String: Any] ?? [:]
        let candidatePre = candidate["preprocess"] as? [String: Any] ?? [:]
        for key in ["min_size_test", "max_size_test", "resized_height", "resized_width", "padded_height", "padded_width"] {
            #expect(candidatePre[key] as? Int != nil && candidatePre[key] as? Int == pre[key] as? Int, "preprocess.\(key)")
        }
        #expect(candidatePre["pixel_mean"] as? [Double] == pre["pixel_mean_bgr"] as? [Double])
        let thresholds = golden["thresholds"] as? [String: Any] ?? [:]
        let candidateThresholds = candidate["thresholds"] as? [String: Any] ?? [:]
        for key in ["score_thresh_test", "nms_thresh_test", "mask_threshold"] {
            #expect(candidateThresholds[key] as? Double != nil && candidateThresholds[key] as? Double == thresholds[key] as? Double,
                    "thresholds.\(key)")
        }
        #expect(candidateThresholds["detections_per_image"] as? Int == thresholds["detections_per_image"] as? Int)
        #expect(golden["num_proposals"] as? Int == prediction.numProposals)
        return try GoldenComparator.compare(golden: golden, candidate: candidate)
    }

    @Test(arguments: images)
    func fasterRCNN(image: String) throws {
        let problems = try Self.check(model: "tiny_faster_rcnn_R_50_FPN", config: "tiny_faster_rcnn_R_50_FPN",
                                      weights: "tiny_faster_rcnn_R_50_FPN.pkl", image: image)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// The same boxes from the Detectron1 (Caffe2) layout of the same weights.
    @Test(arguments: images)
    func fasterRCNNFromCaffe2Layout(image: String) throws {
        let problems = try Self.check(model: "tiny_faster_rcnn_R_50_FPN", config: "tiny_faster_rcnn_R_50_FPN",
                                      weights: "tiny_mask_rcnn_R_50_FPN_c2.pkl", image: image)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test(arguments: images)
    func maskRCNN(image: String) throws {
        let problems = try Self.check(model: "tiny_mask_rcnn_R_50_FPN", config: "tiny_mask_rcnn_R_50_FPN",
                                      weights: "tiny_mask_rcnn_R_50_FPN.pkl", image: image)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    @Test(arguments: images)
    func keypointRCNN(image: String) throws {
        let problems = try Self.check(model: "tiny_keypoint_rcnn_R_50_FPN", config: "tiny_keypoint_rcnn_R_50_FPN",
                                      weights: "tiny_keypoint_rcnn_R_50_FPN.pkl", image: image)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }
}
