import Foundation
import Testing
@testable import ZooKit

/// The whole engine with Winograd 3x3 convolutions (`zoo run --winograd`, the benchmark's default)
/// against the same goldens and tolerances as `GoldenPipelineTests`.
@Suite struct WinogradPipelineTests {
    static let cache = FixtureModelCache { try FixtureModelCache.build($0, algorithm: .winograd) }

    static let cases: [(String, String)] = ["tiny_faster_rcnn_R_50_FPN", "tiny_mask_rcnn_R_50_FPN", "tiny_keypoint_rcnn_R_50_FPN"]
        .flatMap { model in GoldenPipelineTests.images.map { (model, $0) } }

    @Test(arguments: cases)
    func winogradMatchesGolden(model: String, image: String) throws {
        let net = try Self.cache.model(model)
        let prediction = try net.predict(try GoldenPipelineTests.image(image))
        let record = PredictionRecord(prediction: prediction, config: net.config, model: model, weights: model + ".pkl",
                                      configName: model, image: image,
                                      classNames: GoldenPipelineTests.classNames[model] ?? [])
        let candidate = try JSONSerialization.jsonObject(with: try record.jsonLine()) as? [String: Any] ?? [:]
        let stem = (image as NSString).deletingPathExtension
        let goldenURL = TestSupport.fixtures.appendingPathComponent("golden/\(model)__\(stem).json")
        let golden = try JSONSerialization.jsonObject(with: Data(contentsOf: goldenURL)) as? [String: Any] ?? [:]
        // Winograd moves RPN logits by float noise, enough to flip a few near-tied NMS decisions among
        // ~1000 proposals (the README compares proposals as sets for this reason); detections must still match.
        let goldenProposals = golden["num_proposals"] as? Int ?? 0
        #expect(abs(goldenProposals - prediction.numProposals) <= max(2, goldenProposals / 100))
        let problems = try GoldenComparator.compare(golden: golden, candidate: candidate)
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// The suite above only means something if oneDNN really picked Winograd for the tiny models.
    @Test func tinyModelsUseWinograd() throws {
        let net = try Self.cache.model("tiny_mask_rcnn_R_50_FPN")
        let conv = try #require(net.backbone.fpn.output.first)
        let implementation = try conv.implementation(for: [1, conv.inChannels, 64, 64])
        #expect(implementation.contains("wino"), "\(implementation)")
    }
}
