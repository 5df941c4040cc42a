import Foundation
import Testing
@testable import ZooKit

@Suite("Config YAML: _BASE_ and errors")
struct ConfigYAMLTests {
    private func folder(_ files: [String: String]) throws -> URL { try ConfigTestFiles.folder(files) }
    private func configError(_ body: () throws -> Void) -> ConfigError? { ConfigTestFiles.configError(body) }

    @Test("a _BASE_ chain merges like fvcore's load_yaml_with_base")
    func baseChain() throws {
        let dir = try folder([
            "Base-RCNN-FPN.yaml": """
                MODEL:
                  META_ARCHITECTURE: "GeneralizedRCNN"
                  BACKBONE:
                    NAME: "build_resnet_fpn_backbone"
                  RESNETS:
                    OUT_FEATURES: ["res2", "res3", "res4", "res5"]
                  FPN:
                    IN_FEATURES: ["res2", "res3", "res4", "res5"]
                  ANCHOR_GENERATOR:
                    SIZES: [[32], [64], [128], [256], [512]]
                    ASPECT_RATIOS: [[0.5, 1.0, 2.0]]
                  RPN:
                    IN_FEATURES: ["p2", "p3", "p4", "p5", "p6"]
                    PRE_NMS_TOPK_TEST: 1000
                    BBOX_REG_WEIGHTS: (1.0, 1.0, 1.0, 1.0)
                  ROI_HEADS:
                    NAME: "StandardROIHeads"
                    IN_FEATURES: ["p2", "p3", "p4", "p5"]
                  ROI_BOX_HEAD:
                    NAME: "FastRCNNConvFCHead"
                    NUM_FC: 2
                    POOLER_RESOLUTION: 7
                INPUT:
                  MIN_SIZE_TRAIN: (640, 672, 704, 736, 768, 800)
                SOLVER:
                  STEPS: (60000, 80000)
                VERSION: 2
                """,
            "COCO-Detection/faster_rcnn_R_101_FPN_3x.yaml": """
                _BASE_: "../Base-RCNN-FPN.yaml"
                MODEL:
                  WEIGHTS: "detectron2://ImageNetPretrained/MSRA/R-101.pkl"
                  MASK_ON: False
                  RESNETS:
                    DEPTH: 101
                """,
            "mine/custom.yaml": """
                _BASE_: ../COCO-Detection/faster_rcnn_R_101_FPN_3x.yaml
                MODEL:
                  RESNETS:
                    STRIDE_IN_1X1: "False"
                  ROI_HEADS:
                    NUM_CLASSES: 5
                  ANCHOR_GENERATOR:
                    SIZES: [[16, 32]]
                  PIXEL_STD: [57.375, 57.120, 58.395]
                INPUT:
                  MIN_SIZE_TEST: 640
                  FORMAT: RGB
                """,
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = try RCNNConfig.load(contentsOf: dir.appendingPathComponent("mine/custom.yaml"))
        #expect(c.model.backbone.name == "build_resnet_fpn_backbone")  // from the grand-base
        #expect(c.model.resnets.depth == 101)  // from the base, next to ...
        #expect(c.model.resnets.strideIn1x1 == false)  // ... this file's key in the same section
        #expect(c.model.resnets.outFeatures == ["res2", "res3", "res4", "res5"])
        #expect(c.model.weights == "detectron2://ImageNetPretrained/MSRA/R-101.pkl")
        #expect(c.model.roiHeads.numClasses == 5 && c.model.roiHeads.name == "StandardROIHeads")
        #expect(c.model.anchorGenerator.sizes == [[16, 32]])  // lists replace, not merge
        #expect(c.model.anchorGenerator.aspectRatios == [[0.5, 1, 2]])
        #expect(c.model.rpn.bboxRegWeights == [1, 1, 1, 1] && c.model.rpn.preNMSTopKTest == 1000)
        #expect(c.model.pixelStd == [57.375, 57.120, 58.395])
        #expect(c.input == .init(minSizeTest: 640, maxSizeTest: 1333, format: "RGB"))
        #expect(c.model.roiBoxHead.fcDim == 1024)  // detectron2's default, named nowhere in the chain
    }

    @Test("a missing or cyclic _BASE_ is an error naming the file and line")
    func badBases() throws {
        let dir = try folder([
            "a.yaml": "_BASE_: b.yaml\nMODEL:\n  MASK_ON: True\n",
            "b.yaml": "_BASE_: \"./a.yaml\"\n",
            "lost.yaml": "MODEL:\n  MASK_ON: True\n_BASE_: nowhere/Base.yaml\n",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let cycle = configError { _ = try RCNNConfig.load(contentsOf: dir.appendingPathComponent("a.yaml")) }
        guard case let .baseCycle(loc, chain)? = cycle else { Issue.record("expected baseCycle, got \(String(describing: cycle))"); return }
        #expect(loc.file.hasSuffix("b.yaml") && loc.line == 1 && chain.count == 3)
        let lost = configError { _ = try RCNNConfig.load(contentsOf: dir.appendingPathComponent("lost.yaml")) }
        guard case let .badBase(loc2, base, _)? = lost else { Issue.record("expected badBase, got \(String(describing: lost))"); return }
        #expect(loc2.file.hasSuffix("lost.yaml") && loc2.line == 3 && base == "nowhere/Base.yaml")
        #expect(lost?.description.contains("lost.yaml:3:") == true)
    }

    @Test("malformed YAML reports line and column")
    func malformed() throws {
        let dir = try folder(["bad.yaml": "MODEL:\n  MASK_ON: True\n  RPN: [1, 2\nINPUT:\n  FORMAT: BGR\n",
                              "tabs.yaml": "MODEL:\n  ROI_HEADS:\n\tNUM_CLASSES: 3\n",
                              "list.yaml": "- MODEL\n- INPUT\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["bad.yaml", "tabs.yaml"] {
            let e = configError { _ = try RCNNConfig.load(contentsOf: dir.appendingPathComponent(name)) }
            guard case let .malformedYAML(loc, _)? = e else { Issue.record("\(name): expected malformedYAML, got \(String(describing: e))"); continue }
            #expect(loc.file.hasSuffix(name) && loc.line >= 3 && loc.column >= 1, "\(loc)")
            #expect(e?.description.contains("\(name):\(loc.line):\(loc.column)") == true)
        }
        let notMapping = configError { _ = try RCNNConfig.load(contentsOf: dir.appendingPathComponent("list.yaml")) }
        guard case .notAMapping? = notMapping else { Issue.record("expected notAMapping, got \(String(describing: notMapping))"); return }
    }

    @Test("a value of the wrong type names the key, line and column")
    func wrongType() throws {
        let dir = try folder([
            "base.yaml": "MODEL:\n  RPN:\n    NMS_THRESH: 0.7\n",
            "type.yaml": "_BASE_: base.yaml\nMODEL:\n  ROI_HEADS:\n    NUM_CLASSES: three\n",
            "float.yaml": "MODEL:\n  ROI_HEADS:\n    NUM_CLASSES: 3.0\n",
            "list.yaml": "MODEL:\n  PIXEL_MEAN: [1.0, x, 2.0]\n",
            "inherit.yaml": "_BASE_: base.yaml\nMODEL:\n  RPN:\n    NMS_THRESH:\n      VALUE: 0.5\n",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let e = configError { _ = try RCNNConfig.load(contentsOf: dir.appendingPathComponent("type.yaml")) }
        guard case let .wrongType(loc, key, _, found)? = e else { Issue.record("expected wrongType, got \(String(describing: e))"); return }
        #expect(loc.file.hasSuffix("type.yaml") && loc.line == 4 && loc.column == 18)
        #expect(key == "MODEL.ROI_HEADS.NUM_CLASSES" && found == "'three'")
        #expect(e?.description.contains("type.yaml:4:18") == true)
        let f = configError { _ = try RCNNConfig.load(contentsOf: dir.appendingPathComponent("float.yaml")) }
        guard case .wrongType(_, "MODEL.ROI_HEADS.NUM_CLASSES", _, _)? = f else { Issue.record("expected wrongType, got \(String(describing: f))"); return }
        let l = configError { _ = try RCNNConfig.load(contentsOf: dir.appendingPathComponent("list.yaml")) }
        guard case let .wrongType(ll, "MODEL.PIXEL_MEAN", _, _)? = l else { Issue.record("expected wrongType, got \(String(describing: l))"); return }
        #expect(ll.line == 2)
        let i = configError { _ = try RCNNConfig.load(contentsOf: dir.appendingPathComponent("inherit.yaml")) }
        guard case .notAMapping(_, "MODEL.RPN.NMS_THRESH")? = i else { Issue.record("expected notAMapping, got \(String(describing: i))"); return }
    }

    @Test("an unreadable file")
    func unreadable() {
        let e = configError { _ = try RCNNConfig.load(contentsOf: URL(fileURLWithPath: "/nonexistent/zoo.yaml")) }
        guard case .unreadable("/nonexistent/zoo.yaml", _)? = e else { Issue.record("expected unreadable, got \(String(describing: e))"); return }
    }
}
