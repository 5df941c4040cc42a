import Foundation
import Testing
@testable import ZooKit

/// The shipped index: the embedded copy, its completeness and the facts every entry must satisfy.
@Suite struct ZooIndexFileTests {
    let index: ZooIndex

    init() throws {
        index = try ZooIndex.parse(json: EmbeddedIndex.json, source: "embedded")
    }

    @Test func embeddedCopyEqualsRepositoryFile() throws {
        let file = try String(contentsOf: TestSupport.packageRoot.appendingPathComponent("zoo-index.json"), encoding: .utf8)
        #expect(EmbeddedIndex.json == file, "zoo-index.json changed: run scripts/embed-index")
    }

    @Test func holdsEveryPublishedModel() {
        #expect(index.entries.filter { $0.kind == .model }.count == 64)
        #expect(index.entries.filter { $0.kind == .caffe2Baseline }.count == 13)
        #expect(index.entries.filter { $0.kind == .backbone }.count == 7)
    }

    @Test func idsAreUnique() {
        let ids = index.entries.map(\.id)
        #expect(Set(ids).count == ids.count)
    }

    @Test func md5PrefixIsTheOneTheFileNameCarries() {
        for e in index.entries {
            #expect(e.md5Prefix == ZooEntry.md5Prefix(fromFileName: e.weightsFileName), "\(e.id): \(e.weightsFileName)")
            if e.kind == .model {
                // Every detectron2 zoo file name carries one ("model_final_f10217.pkl", "model_0039999_e76410.pkl").
                #expect(e.md5Prefix != nil, "\(e.id) has no md5 prefix")
            }
        }
    }

    @Test func configPathsHaveTheRightForm() {
        for e in index.entries {
            switch e.kind {
            case .model:
                let expected = e.config.hasPrefix("new_baselines/") ? ".py" : ".yaml"
                #expect(e.config.hasSuffix(expected), "\(e.id): \(e.config)")
                #expect(e.name == ZooEntry.defaultName(config: e.config))
            case .caffe2Baseline:
                #expect(e.config.hasPrefix("catalog://Caffe2Detectron/COCO/") && e.config.hasSuffix("/" + e.id), "\(e.config)")
            case .backbone:
                #expect(e.config.hasPrefix("detectron2://ImageNetPretrained/") || e.config.hasPrefix("catalog://ImageNetPretrained/"), "\(e.config)")
            }
        }
    }

    @Test func zooURLsFollowModelZooPy() {
        // detectron2/model_zoo/model_zoo.py: S3_PREFIX + name + "/" + "<id>/<file>".
        for e in index.entries where e.kind == .model {
            let name = ZooIndex.withoutExtension(e.config)
            #expect(e.weightsURL == "https://dl.fbaipublicfiles.com/detectron2/\(name)/\(e.id)/\(e.weightsFileName)")
            #expect(e.metricsURL == "https://dl.fbaipublicfiles.com/detectron2/\(name)/\(e.id)/metrics.json")
            #expect(e.layout == .detectron2)
        }
        for e in index.entries where e.kind != .model {
            #expect(e.weightsURL.hasPrefix("https://dl.fbaipublicfiles.com/detectron"), "\(e.weightsURL)")
            #expect(e.weightsURL.hasSuffix(".pkl"))
        }
        for e in index.entries where e.kind == .caffe2Baseline {
            #expect(e.layout == .detectron)
            #expect(e.weightsURL.hasSuffix("/model_final.pkl"))
        }
    }

    @Test func everyDatasetReferenceResolves() throws {
        for e in index.entries {
            let name = try #require(e.dataset, "\(e.id) has no dataset")
            #expect(throws: Never.self) { try index.dataset(named: name) }
        }
    }

    @Test func cocoMetadataMatchesBuiltinMeta() throws {
        let coco = try index.dataset(named: "coco_2017")
        #expect(coco.thingClasses.count == 80)
        #expect(coco.thingClasses.first == "person")
        #expect(coco.thingClasses.last == "toothbrush")
        #expect(coco.thingColors?.count == 80)
        #expect(coco.thingColors?.first == [220, 20, 60])
        let kp = try index.dataset(named: "keypoints_coco_2017")
        #expect(kp.thingClasses == ["person"])
        #expect(kp.keypointNames?.count == 17)
        #expect(kp.keypointNames?.first == "nose")
        #expect(kp.keypointFlipMap?.count == 8)
        #expect(kp.keypointFlipMap?.first.map { [$0.0, $0.1] } == ["left_eye", "right_eye"])
        let rules = try #require(kp.keypointConnectionRules)
        #expect(rules.count == 14)
        #expect(rules.first.map { [$0.0, $0.1] } == ["left_ear", "left_eye"])
        #expect(rules.first?.2 == [102, 204, 255])
        #expect(try index.dataset(named: "voc_2007").thingClasses.count == 20)
        #expect(try index.dataset(named: "lvis_v0.5").thingClasses.count == 1230)
        #expect(try index.dataset(named: "cityscapes_fine").thingClasses.count == 8)
    }

    @Test func fixtureDatasets() throws {
        #expect(try index.dataset(named: "tiny_shapes").thingClasses == ["circle", "square", "triangle"])
        let kites = try index.dataset(named: "tiny_kites")
        #expect(kites.thingClasses == ["kite"])
        #expect(kites.keypointNames == ["top", "right", "bottom", "left"])
        #expect(kites.keypointFlipMap?.map { [$0.0, $0.1] } == [["left", "right"]])
        #expect(kites.keypointConnectionRules?.map { [$0.0, $0.1] } == [["top", "right"], ["right", "bottom"], ["bottom", "left"], ["left", "top"]])
    }

    @Test func unknownDatasetListsTheKnownOnes() {
        #expect {
            try index.dataset(named: "coco_2099")
        } throws: { error in
            "\(error)".contains("coco_2017") && "\(error)".contains("coco_2099")
        }
    }

    @Test func inferenceSettingsRecordedForRCNNFPNEntries() {
        let rcnnFPN = index.entries.filter {
            $0.kind == .model && $0.config.hasSuffix(".yaml") && $0.architecture.variant == "FPN"
                && ($0.name.hasPrefix("faster_rcnn") || $0.name.hasPrefix("mask_rcnn") || $0.name.hasPrefix("keypoint_rcnn"))
        }
        #expect(rcnnFPN.count >= 17)
        for e in rcnnFPN {
            #expect(e.hasInferenceSettings, "\(e.config)")
            #expect(e.inference["MODEL.BACKBONE.NAME"] == .string("build_resnet_fpn_backbone"), "\(e.config)")
            #expect(e.inference["MODEL.RPN.IN_FEATURES"] == .array(["p2", "p3", "p4", "p5", "p6"].map(IndexValue.string)))
        }
    }

    @Test func detectron1ComparisonSettings() throws {
        let mask = try index.lookup("137781281")
        #expect(mask.inference["MODEL.MASK_ON"] == .bool(true))
        #expect(mask.inference["MODEL.ROI_BOX_HEAD.POOLER_TYPE"] == .string("ROIAlign"))
        #expect(mask.inference["MODEL.ROI_BOX_HEAD.POOLER_SAMPLING_RATIO"] == .number(2))
        #expect(mask.inference["MODEL.ROI_HEADS.NUM_CLASSES"] == nil, "80 is the default and must not be listed")
        let keypoint = try index.lookup("Detectron1-Comparisons/keypoint_rcnn_R_50_FPN_1x.yaml")
        #expect(keypoint.inference["MODEL.KEYPOINT_ON"] == .bool(true))
        #expect(keypoint.inference["MODEL.ROI_HEADS.NUM_CLASSES"] == .number(1))
        #expect(keypoint.dataset == "keypoints_coco_2017")
        let faster = try index.lookup("137781054")
        #expect(faster.inference["MODEL.MASK_ON"] == nil)
        #expect(faster.metrics["box_AP"] == .number(36.9))
    }

    @Test func x101UsesGroupsAndItsPixelStd() throws {
        let x101 = try index.lookup("COCO-InstanceSegmentation/mask_rcnn_X_101_32x8d_FPN_3x")
        #expect(x101.inference["MODEL.RESNETS.NUM_GROUPS"] == .number(32))
        #expect(x101.inference["MODEL.RESNETS.WIDTH_PER_GROUP"] == .number(8))
        #expect(x101.inference["MODEL.RESNETS.STRIDE_IN_1X1"] == .bool(false))
        #expect(x101.inference["MODEL.RESNETS.DEPTH"] == .number(101))
        #expect(x101.inference["MODEL.PIXEL_STD"] == .array([57.375, 57.12, 58.395].map(IndexValue.number)))
    }
}
