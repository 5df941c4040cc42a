import Foundation
import Testing
@testable import ZooKit

/// `--precision bf16`: the whole engine against detectron2's goldens, held to the wider
/// `Tolerances.bfloat16`; the layers that must compute in bfloat16 do; and on a CPU without
/// AVX512-BF16, one clear error instead.
@Suite struct BFloat16PipelineTests {
    static let available = ConvolutionPrecision.bfloat16.isAvailable

    static let cache = FixtureModelCache { try FixtureModelCache.build($0, algorithm: .winograd, precision: .bfloat16) }

    static func build(_ name: String, precision: ConvolutionPrecision) throws -> GeneralizedRCNN {
        try FixtureModelCache.build(name, algorithm: .winograd, precision: precision)
    }

    static let cases: [(String, String)] = ["tiny_faster_rcnn_R_50_FPN", "tiny_mask_rcnn_R_50_FPN", "tiny_keypoint_rcnn_R_50_FPN"]
        .flatMap { model in GoldenPipelineTests.images.map { (model, $0) } }

    /// With `--convolution direct` every convolution but the stem and the few-channel predictors
    /// computes in bfloat16, and the heads' towers pass bfloat16 from conv to conv.
    static let directCache = FixtureModelCache { try FixtureModelCache.build($0, algorithm: .direct, precision: .bfloat16) }

    @Test(.enabled(if: available, "this CPU has no AVX512-BF16"), arguments: cases)
    func bfloat16StaysWithinItsTolerances(model: String, image: String) throws {
        try Self.check(try Self.cache.model(model), model: model, image: image)
    }

    @Test(.enabled(if: available, "this CPU has no AVX512-BF16"),
          arguments: ["tiny_faster_rcnn_R_50_FPN", "tiny_mask_rcnn_R_50_FPN", "tiny_keypoint_rcnn_R_50_FPN"])
    func everyConvolutionInBFloat16StaysWithinItsTolerances(model: String) throws {
        let net = try Self.directCache.model(model)
        let tower = net.keypointHead?.convs ?? net.maskHead?.convs ?? []
        #expect(net.rpnHead.conv.computesInBFloat16 && tower.allSatisfy(\.computesInBFloat16))
        #expect(tower.dropLast().allSatisfy(\.bfloat16Output) && tower.last?.bfloat16Output != true)
        for image in GoldenPipelineTests.images {
            try Self.check(net, model: model, image: image, tolerances: .bfloat16EveryConvolution)
        }
    }

    static func check(_ net: GeneralizedRCNN, model: String, image: String,
                      tolerances: GoldenComparator.Tolerances = .bfloat16) throws {
        let prediction = try net.predict(try GoldenPipelineTests.image(image))
        let record = PredictionRecord(prediction: prediction, config: net.config, model: model, weights: model + ".pkl",
                                      configName: model, image: image,
                                      classNames: GoldenPipelineTests.classNames[model] ?? [], precision: net.precision)
        let candidate = try JSONSerialization.jsonObject(with: try record.jsonLine()) as? [String: Any] ?? [:]
        #expect(candidate["precision"] as? String == "bf16")
        let stem = (image as NSString).deletingPathExtension
        let goldenURL = TestSupport.fixtures.appendingPathComponent("golden/\(model)__\(stem).json")
        let golden = try JSONSerialization.jsonObject(with: Data(contentsOf: goldenURL)) as? [String: Any] ?? [:]
        let (problems, deviations) = try GoldenComparator.compareMeasuring(golden: golden, candidate: candidate,
                                                                           tolerances: tolerances)
        print("bf16 \(model) \(image) (\(net.rpnHead.conv.algorithm)): \(deviations)")
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
    }

    /// Without this the suite above could pass on float32 alone.
    @Test(.enabled(if: available, "this CPU has no AVX512-BF16"))
    func theLayersThatShouldComputeInBFloat16Do() throws {
        let net = try Self.cache.model("tiny_mask_rcnn_R_50_FPN")
        let block = try #require(net.backbone.bottomUp.stages.first?.first)
        #expect(block.conv1.computesInBFloat16 && block.conv3.computesInBFloat16 && block.shortcut?.computesInBFloat16 == true)
        // Winograd's layers and the stem stay float32.
        #expect(!block.conv2.computesInBFloat16 && !net.backbone.bottomUp.stem.conv1.computesInBFloat16)
        let lateral = try #require(net.backbone.fpn.lateral.first)
        let implementation = try lateral.implementation(forBlocked: [1, lateral.inChannels, 32, 32])
        #expect(implementation.contains("bf16"), "\(implementation)")
    }

    /// A bfloat16 model's answers differ from float32's (by more than Winograd's float noise) but
    /// stay close: the detections of one image, paired in order.
    @Test(.enabled(if: available, "this CPU has no AVX512-BF16"))
    func bfloat16DiffersFromFloat32ButLittle() throws {
        let image = try GoldenPipelineTests.image("img3_640x427.png")
        let bf16 = try Self.cache.model("tiny_faster_rcnn_R_50_FPN").predict(image).detections
        let f32 = try Self.build("tiny_faster_rcnn_R_50_FPN", precision: .float32).predict(image).detections
        let confident = Array(zip(f32, bf16).prefix(5))
        #expect(confident.count == 5)
        var largest: Float = 0
        for (a, b) in confident {
            #expect(a.classIndex == b.classIndex)
            largest = max(largest, abs(a.score - b.score), abs(a.box.x0 - b.box.x0), abs(a.box.y0 - b.box.y0),
                          abs(a.box.x1 - b.box.x1), abs(a.box.y1 - b.box.y1))
        }
        #expect(largest > 1e-4 && largest < 1, "largest difference \(largest)")
    }

    /// On every CPU: the refusal's wording for one without AVX512-BF16 (oneDNN's avx512_core,
    /// 0x27), none with it (avx512_core_bf16, 0xe7), and never for float32.
    @Test func theRefusalNamesTheCPUsInstructionSet() {
        let refusal = ConvolutionPrecision.bfloat16.problem(onISA: 0x27)
        #expect(refusal == .precisionUnavailable(precision: "bf16", cpu: "avx512_core"))
        #expect("\(refusal.map(String.init(describing:)) ?? "")".contains("AVX512-BF16"))
        #expect(ConvolutionPrecision.bfloat16.problem(onISA: 0xe7) == nil)
        #expect(ConvolutionPrecision.float32.problem(onISA: 0x7) == nil)
    }

    @Test(.enabled(if: !available, "this CPU has AVX512-BF16"))
    func withoutAVX512BF16ItIsOneClearError() throws {
        #expect {
            _ = try Self.build("tiny_faster_rcnn_R_50_FPN", precision: .bfloat16)
        } throws: { error in
            guard case EngineError.precisionUnavailable(let precision, _) = error else { return false }
            return precision == "bf16" && "\(error)".contains("AVX512-BF16")
        }
    }
}
