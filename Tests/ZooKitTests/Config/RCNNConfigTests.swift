import Foundation
import Testing
@testable import ZooKit

@Suite("RCNNConfig")
struct RCNNConfigTests {
    private func fixture(_ name: String) -> URL {
        TestSupport.fixtures.appendingPathComponent("models/\(name).yaml")
    }

    @Test("the tiny Faster R-CNN YAML loads to the values it holds (aliases resolved)")
    func fasterFixture() throws {
        let c = try RCNNConfig.load(contentsOf: fixture("tiny_faster_rcnn_R_50_FPN"))
        #expect(c.model.metaArchitecture == "GeneralizedRCNN")
        #expect(!c.model.maskOn && !c.model.keypointOn)
        #expect(c.model.weights == "tiny_faster_rcnn_R_50_FPN.pkl")
        #expect(c.model.pixelMean == [103.53, 116.28, 123.675] && c.model.pixelStd == [1, 1, 1])
        #expect(c.model.backbone.name == "build_resnet_fpn_backbone")
        let r = c.model.resnets
        #expect(r.depth == 50 && r.numGroups == 1 && r.widthPerGroup == 16 && r.strideIn1x1 && r.res5Dilation == 1)
        #expect(r.res2OutChannels == 64 && r.stemOutChannels == 16 && r.norm == "FrozenBN")
        #expect(r.outFeatures == ["res2", "res3", "res4", "res5"])
        #expect(c.model.fpn == .init(inFeatures: ["res2", "res3", "res4", "res5"], outChannels: 64, fuseType: "sum", norm: ""))
        #expect(c.model.anchorGenerator.sizes == [[32], [64], [128], [256], [512]])
        #expect(c.model.anchorGenerator.aspectRatios == [[0.5, 1, 2]] && c.model.anchorGenerator.offset == 0)
        #expect(c.model.rpn.inFeatures == ["p2", "p3", "p4", "p5", "p6"])
        #expect(c.model.rpn.preNMSTopKTest == 1000 && c.model.rpn.postNMSTopKTest == 1000 && c.model.rpn.nmsThresh == 0.7)
        #expect(c.model.rpn.bboxRegWeights == [1, 1, 1, 1])  // *id002
        #expect(c.model.roiHeads == .init(name: "StandardROIHeads", numClasses: 3, inFeatures: ["p2", "p3", "p4", "p5"],
                                          scoreThreshTest: 0.05, nmsThreshTest: 0.5))
        let b = c.model.roiBoxHead
        #expect(b.name == "FastRCNNConvFCHead" && b.numFC == 2 && b.fcDim == 256 && b.numConv == 0)
        #expect(b.poolerResolution == 7 && b.poolerSamplingRatio == 2 && b.poolerType == "ROIAlign")
        #expect(b.bboxRegWeights == [10, 10, 5, 5])  // *id001, an alias into ROI_BOX_CASCADE_HEAD
        #expect(c.input == .init(minSizeTest: 400, maxSizeTest: 600, format: "BGR"))
        #expect(c.test.detectionsPerImage == 100)
    }

    @Test("the tiny Mask and Keypoint R-CNN YAMLs")
    func maskAndKeypointFixtures() throws {
        let m = try RCNNConfig.load(contentsOf: fixture("tiny_mask_rcnn_R_50_FPN"))
        #expect(m.model.maskOn && !m.model.keypointOn)
        #expect(m.model.roiMaskHead == .init(name: "MaskRCNNConvUpsampleHead", numConv: 4, convDim: 64, norm: "",
                                             poolerResolution: 14, poolerSamplingRatio: 2, poolerType: "ROIAlign",
                                             clsAgnosticMask: false))
        let k = try RCNNConfig.load(contentsOf: fixture("tiny_keypoint_rcnn_R_50_FPN"))
        #expect(k.model.keypointOn && !k.model.maskOn && k.model.roiHeads.numClasses == 1)
        #expect(k.model.roiKeypointHead == .init(name: "KRCNNConvDeconvUpsampleHead", numKeypoints: 4,
                                                 convDims: [Int](repeating: 64, count: 8), poolerResolution: 14,
                                                 poolerSamplingRatio: 0, poolerType: "ROIAlignV2"))
        #expect(k.model.roiBoxHead.poolerType == "ROIAlignV2" && k.model.roiBoxHead.poolerSamplingRatio == 0)
    }

    @Test("every key the engine reads exists in a full detectron2 dump, with the default's type")
    func engineKeysAreDetectron2Keys() throws {
        let tree = try ConfigYAML.loadWithBase(fixture("tiny_faster_rcnn_R_50_FPN"))
        for key in RCNNConfig.engineKeys {
            let found = tree.leaf(at: key.split(separator: ".").map(String.init)[...])
            #expect(found != nil, "\(key) is not in cfg.dump()")
        }
        // Re-applying the dump's own values as overrides over the defaults reproduces load().
        var overrides: [String: ConfigValue] = [:]
        for key in RCNNConfig.engineKeys {
            if let (v, _) = tree.leaf(at: key.split(separator: ".").map(String.init)[...]) { overrides[key] = v }
        }
        #expect(try RCNNConfig.defaults.applying(overrides) == RCNNConfig.load(contentsOf: fixture("tiny_faster_rcnn_R_50_FPN")))
    }

    @Test("defaults are detectron2's")
    func defaults() {
        let d = RCNNConfig.defaults
        #expect(d.model.rpn.preNMSTopKTest == 6000 && d.model.roiHeads.name == "Res5ROIHeads")
        #expect(d.model.roiKeypointHead.convDims == [512, 512, 512, 512, 512, 512, 512, 512])
        #expect(d.input.minSizeTest == 800 && d.input.maxSizeTest == 1333)
        #expect(d.model.roiBoxHead.bboxRegWeights == [10, 10, 5, 5] && d.model.resnets.res2OutChannels == 256)
    }

    @Test("dotted overrides, from JSON")
    func overrides() throws {
        let json = #"{"MODEL.ROI_HEADS.NUM_CLASSES": 3, "MODEL.ROI_HEADS.SCORE_THRESH_TEST": 0.3, "MODEL.MASK_ON": true,"#
            + #" "INPUT.MIN_SIZE_TEST": "(640)", "MODEL.ANCHOR_GENERATOR.SIZES": [[32], [64]], "MODEL.PIXEL_STD": [57.375, 57, 58.395]}"#
        let overrides = try JSONDecoder().decode([String: ConfigValue].self, from: Data(json.utf8))
        #expect(overrides["MODEL.ROI_HEADS.NUM_CLASSES"] == .int(3))
        #expect(overrides["MODEL.ROI_HEADS.SCORE_THRESH_TEST"] == .double(0.3))
        let c = try RCNNConfig.defaults.applying(overrides)
        #expect(c.model.roiHeads.numClasses == 3 && c.model.roiHeads.scoreThreshTest == 0.3 && c.model.maskOn)
        #expect(c.input.minSizeTest == 640)
        #expect(c.model.anchorGenerator.sizes == [[32], [64]] && c.model.pixelStd == [57.375, 57, 58.395])
        #expect(c.model.rpn == RCNNConfig.defaults.model.rpn)

        #expect(throws: ConfigError.unknownKey(.init(file: "override"), key: "MODEL.ROI_HEADS.NUM_CLASS")) {
            try RCNNConfig.defaults.applying(["MODEL.ROI_HEADS.NUM_CLASS": .int(3)])
        }
        #expect(throws: ConfigError.wrongType(.init(file: "override"), key: "MODEL.MASK_ON", expected: "True or False", found: "1")) {
            try RCNNConfig.defaults.applying(["MODEL.MASK_ON": .int(1)])
        }
    }

    @Test("Python literals as yacs' literal_eval reads them")
    func pythonLiterals() {
        let cases: [(String, ConfigValue)] = [
            ("(800,)", .list([.int(800)])), ("(800)", .int(800)), ("()", .list([])),
            ("(640, 672, 704,)", .list([.int(640), .int(672), .int(704)])),
            ("(10.0, 10.0, 5.0, 5.0)", .list([.double(10), .double(10), .double(5), .double(5)])),
            ("[[0.5, 1], (2,)]", .list([.list([.double(0.5), .int(1)]), .list([.int(2)])])),
            ("True", .bool(true)), ("False", .bool(false)), ("None", .null),
            ("-1", .int(-1)), ("- 2.5", .double(-2.5)), ("1e-3", .double(0.001)), (".5", .double(0.5)),
            ("'res4'", .string("res4")), ("\"BGR\"", .string("BGR")),
        ]
        for (text, value) in cases { #expect(PythonLiteral.parse(text) == value, "\(text)") }
        for text in ["res4", "build_resnet_fpn_backbone", "01", "(1, 2", "1 2", "true", "[1,,2]", ""] {
            #expect(PythonLiteral.parse(text) == nil, "\(text)")
            #expect(ConfigValue.decodingPythonLiteral(text) == .string(text))
        }
    }
}
