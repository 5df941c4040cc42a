import Foundation
import Testing
@testable import ZooKit

/// The index's per-entry inference settings resolve to configs the engine accepts, and for the
/// seed's three models they agree with detectron2's own resolved configs (the fixtures' YAMLs were
/// dumped by detectron2 from those same base configs) on every key the tiny models did not change.
@Suite struct ZooEntryConfigTests {
    static func entryConfig(_ id: String) throws -> RCNNConfig {
        let entry = try ZooIndex.load().lookup(id)
        return try RCNNConfig.defaults.applying(entry.inference.mapValues(ConfigValue.init(indexValue:)))
    }

    /// Undo what the tiny models changed (widths, classes, test sizes) so the rest can be compared.
    static func withTinyChanges(_ c: RCNNConfig, from tiny: RCNNConfig) -> RCNNConfig {
        var c = c
        c.model.weights = tiny.model.weights
        c.model.resnets.stemOutChannels = tiny.model.resnets.stemOutChannels
        c.model.resnets.res2OutChannels = tiny.model.resnets.res2OutChannels
        c.model.resnets.widthPerGroup = tiny.model.resnets.widthPerGroup
        c.model.fpn.outChannels = tiny.model.fpn.outChannels
        c.model.roiBoxHead.fcDim = tiny.model.roiBoxHead.fcDim
        c.model.roiMaskHead.convDim = tiny.model.roiMaskHead.convDim
        c.model.roiKeypointHead.convDims = tiny.model.roiKeypointHead.convDims
        c.model.roiKeypointHead.numKeypoints = tiny.model.roiKeypointHead.numKeypoints
        c.model.roiHeads.numClasses = tiny.model.roiHeads.numClasses
        c.input.minSizeTest = tiny.input.minSizeTest
        c.input.maxSizeTest = tiny.input.maxSizeTest
        return c
    }

    @Test(arguments: [
        ("137781054", "tiny_faster_rcnn_R_50_FPN"),
        ("137781281", "tiny_mask_rcnn_R_50_FPN"),
    ])
    func seedEntryMatchesDetectron2sResolvedConfig(id: String, fixture: String) throws {
        let tiny = try RCNNConfig.load(contentsOf: TestSupport.fixtures.appendingPathComponent("models/\(fixture).yaml"))
        let zoo = try Self.entryConfig(id)
        #expect(Self.withTinyChanges(zoo, from: tiny) == tiny)
    }

    /// The keypoint fixture was built from COCO-Keypoints/keypoint_rcnn_R_50_FPN_1x.yaml.
    @Test func keypointEntryMatchesDetectron2sResolvedConfig() throws {
        let tiny = try RCNNConfig.load(
            contentsOf: TestSupport.fixtures.appendingPathComponent("models/tiny_keypoint_rcnn_R_50_FPN.yaml"))
        let zoo = try Self.entryConfig("COCO-Keypoints/keypoint_rcnn_R_50_FPN_1x.yaml")
        #expect(Self.withTinyChanges(zoo, from: tiny) == tiny)
    }

    /// Every R-CNN FPN entry's settings build a config the engine supports.
    @Test func everyRCNNFPNEntryIsSupported() throws {
        let index = try ZooIndex.load()
        let candidates = index.entries.filter {
            $0.hasInferenceSettings && $0.inference["MODEL.BACKBONE.NAME"]?.stringValue == "build_resnet_fpn_backbone"
                && ($0.inference["MODEL.META_ARCHITECTURE"] == nil)
                && $0.inference["MODEL.ROI_HEADS.NAME"]?.stringValue == "StandardROIHeads"
                && $0.inference["MODEL.RESNETS.DEFORM_ON_PER_STAGE"] == nil
                && $0.inference["MODEL.ROI_BOX_HEAD.NORM"] == nil && $0.inference["MODEL.FPN.NORM"] == nil
                && $0.inference["MODEL.RESNETS.NORM"] == nil
                && $0.inference["MODEL.PROPOSAL_GENERATOR.NAME"] == nil
        }
        #expect(candidates.count >= 10)
        for entry in candidates {
            let config = try RCNNConfig.defaults.applying(entry.inference.mapValues(ConfigValue.init(indexValue:)))
            #expect(throws: Never.self, "\(entry.id) \(entry.config)") { try GeneralizedRCNN.checkSupported(config) }
        }
    }

    /// A long, thin image and a tiny MAX_SIZE_TEST resize to 0 pixels: one error, as Pillow gives
    /// detectron2, not a crash or an empty result.
    @Test func anImageThatResizesToNothingIsAnError() throws {
        let dir = TestSupport.fixtures.appendingPathComponent("models")
        var config = try RCNNConfig.load(contentsOf: dir.appendingPathComponent("tiny_faster_rcnn_R_50_FPN.yaml"))
        config.input.maxSizeTest = 1
        let weights = try Checkpoint.loadWeights(from: dir.appendingPathComponent("tiny_faster_rcnn_R_50_FPN.pkl"))
        let net = try GeneralizedRCNN(config: config, weights: weights.tensors, algorithm: .direct)
        let image = try GoldenPipelineTests.image("img6_wide_960x300.jpg")
        #expect {
            _ = try net.predict(image)
        } throws: { error in
            guard case EngineError.inputShape(let layer, let expected, let actual) = error else { return false }
            return layer.contains("MAX_SIZE_TEST 1") && expected.contains("raise INPUT.MAX_SIZE_TEST") && actual == [300, 960]
        }
    }

    /// The mask and keypoint poolers are ROIAlign(V2) only; anything else was once run as ROIAlign.
    @Test func otherMaskAndKeypointPoolersAreRefused() throws {
        var mask = try Self.entryConfig("137781281")
        mask.model.roiMaskHead.poolerType = "ROIPool"
        #expect(throws: EngineError.unsupported(key: "MODEL.ROI_MASK_HEAD.POOLER_TYPE", value: "ROIPool",
                                                supported: ["ROIAlign", "ROIAlignV2"])) {
            try GeneralizedRCNN.checkSupported(mask)
        }
        var keypoint = try Self.entryConfig("137781195")
        keypoint.model.roiKeypointHead.poolerType = "ROIAlignRotated"
        #expect(throws: EngineError.unsupported(key: "MODEL.ROI_KEYPOINT_HEAD.POOLER_TYPE", value: "ROIAlignRotated",
                                                supported: ["ROIAlign", "ROIAlignV2"])) {
            try GeneralizedRCNN.checkSupported(keypoint)
        }
        // A head that is off is not checked: Faster R-CNN's unused mask settings do not matter.
        var faster = try Self.entryConfig("137781054")
        faster.model.roiMaskHead.poolerType = "ROIPool"
        #expect(throws: Never.self) { try GeneralizedRCNN.checkSupported(faster) }
    }
}
