import Foundation
import Testing
@testable import ZooKit

/// The dense networks on the tiny fixture models against detectron2's intermediate tensors
/// (fixtures README section 6): `max|a - b| / max|b| <= 1e-4`. Run in release.
@Suite("Dense networks match detectron2's intermediates")
struct FixtureIntermediatesTests {
    static let maskFile = "intermediates/tiny_mask_rcnn_R_50_FPN__img6_wide_960x300.safetensors"
    static let keypointFile = "intermediates/tiny_keypoint_rcnn_R_50_FPN__img3_640x427.safetensors"

    static func backbone(_ sd: StateDict, _ algorithm: ConvolutionAlgorithm) throws -> ResNetFPN {
        try ResNetFPN(sd, widthPerGroup: 16, strideInOneByOne: true, stemOutChannels: 16, res2OutChannels: 64,
                      fpnOutChannels: 64, algorithm: algorithm)
    }

    func expectClose(_ got: Tensor, _ want: Tensor, _ name: String, tolerance: Float = 1e-4) {
        #expect(got.shape == want.shape, "\(name) shape")
        guard got.shape == want.shape else { return }
        let err = relativeError(got, want)
        #expect(err <= tolerance, "\(name): relative error \(err)")
    }

    @Test("Mask R-CNN: backbone p2..p6, RPN head, box head, box predictor, mask head", arguments: [ConvolutionAlgorithm.direct, .winograd])
    func maskModel(algorithm: ConvolutionAlgorithm) throws {
        let fx = try FixtureTensors(TestSupport.fixtures.appendingPathComponent(Self.maskFile))
        let sd = try TinyModelWeights.load("tiny_mask_rcnn_R_50_FPN")
        let features = try Self.backbone(sd, algorithm).forward(try fx.normalisedImage())
        let levels = ["p2", "p3", "p4", "p5", "p6"]
        for level in levels {
            guard let f = features[level] else { Issue.record("no \(level)"); continue }
            expectClose(f, try fx("backbone.\(level)"), "backbone.\(level)")
        }
        let rpn = try StandardRPNHead(sd, inChannels: 64, algorithm: algorithm)
        let (objectness, deltas) = try rpn.forward(levels.compactMap { features[$0] })
        for (i, level) in levels.enumerated() {
            expectClose(objectness[i], try fx("rpn.objectness_logits.\(level)"), "rpn.objectness_logits.\(level)")
            expectClose(deltas[i], try fx("rpn.anchor_deltas.\(level)"), "rpn.anchor_deltas.\(level)")
        }
        let boxHead = try FastRCNNConvFCHead(sd, inputShape: [64, 7, 7], fcDim: 256)
        let predictor = try FastRCNNOutputLayers(sd, inputSize: 256, numClasses: 3)
        let boxFeatures = try boxHead.forward(try fx("box.pooled_first16"))
        expectClose(boxFeatures, try fx("box.head_features_first64").rows(0..<16), "box.head_features rows 0..15")
        let (scores, boxDeltas) = try predictor.forward(boxFeatures)
        expectClose(scores, try fx("box.cls_logits").rows(0..<16), "box.cls_logits rows 0..15")
        expectClose(boxDeltas, try fx("box.deltas").rows(0..<16), "box.deltas rows 0..15")
        let maskHead = try MaskRCNNConvUpsampleHead(sd, inChannels: 64, numClasses: 3, convDim: 64, algorithm: algorithm)
        expectClose(try maskHead.forward(try fx("mask.pooled_first4")), try fx("mask.logits_all_first4"), "mask.logits_all_first4")
        let classes = try fx("det.classes").scalars.prefix(4).map { Int($0) }
        expectClose(try maskHead.forwardPredictedClass(try fx("mask.pooled_first4"), classes: classes),
                    try fx("mask.logits").rows(0..<4), "mask.logits rows 0..3 (predicted class only)")
    }

    @Test("The Detectron1 (Caffe2) layout of the tiny Mask R-CNN gives the same features and box outputs")
    func caffe2Layout() throws {
        let fx = try FixtureTensors(TestSupport.fixtures.appendingPathComponent(Self.maskFile))
        let sd = try TinyModelWeights.load("tiny_mask_rcnn_R_50_FPN_c2")
        let features = try Self.backbone(sd, .direct).forward(try fx.normalisedImage())
        for level in ["p2", "p3", "p4", "p5", "p6"] {
            guard let f = features[level] else { Issue.record("no \(level)"); continue }
            expectClose(f, try fx("backbone.\(level)"), "backbone.\(level) from _c2.pkl")
        }
        let boxHead = try FastRCNNConvFCHead(sd, inputShape: [64, 7, 7], fcDim: 256)
        let (scores, deltas) = try FastRCNNOutputLayers(sd, inputSize: 256, numClasses: 3)
            .forward(try boxHead.forward(try fx("box.pooled_first16")))
        expectClose(scores, try fx("box.cls_logits").rows(0..<16), "box.cls_logits from _c2.pkl")
        expectClose(deltas, try fx("box.deltas").rows(0..<16), "box.deltas from _c2.pkl")
    }

    @Test("Keypoint R-CNN: backbone and keypoint head (score_lowres, heatmaps)", arguments: [ConvolutionAlgorithm.direct, .winograd])
    func keypointModel(algorithm: ConvolutionAlgorithm) throws {
        let fx = try FixtureTensors(TestSupport.fixtures.appendingPathComponent(Self.keypointFile))
        let sd = try TinyModelWeights.load("tiny_keypoint_rcnn_R_50_FPN")
        let features = try Self.backbone(sd, algorithm).forward(try fx.normalisedImage())
        for level in ["p2", "p3", "p4", "p5", "p6"] {
            guard let f = features[level] else { Issue.record("no \(level)"); continue }
            expectClose(f, try fx("backbone.\(level)"), "backbone.\(level)")
        }
        let head = try KRCNNConvDeconvUpsampleHead(sd, inChannels: 64, numKeypoints: 4,
                                                   convDims: Array(repeating: 64, count: 8), algorithm: algorithm)
        let (low, heat) = try head.forwardWithLowres(try fx("keypoint.pooled_first4"))
        expectClose(low, try fx("keypoint.score_lowres").rows(0..<4), "keypoint.score_lowres rows 0..3")
        expectClose(heat, try fx("keypoint.heatmaps").rows(0..<4), "keypoint.heatmaps rows 0..3")
    }
}
