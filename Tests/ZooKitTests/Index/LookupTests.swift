import Foundation
import Testing
@testable import ZooKit

/// `ZooIndex.lookup`: by id, config path, MODEL.WEIGHTS string or unique name; helpful errors otherwise.
@Suite struct LookupTests {
    let index: ZooIndex

    init() throws {
        index = try ZooIndex.parse(json: EmbeddedIndex.json, source: "embedded")
    }

    @Test func findsByIdConfigAndName() throws {
        #expect(try index.lookup("137849600").config == "COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x.yaml")
        #expect(try index.lookup("COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x.yaml").id == "137849600")
        #expect(try index.lookup("COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x").id == "137849600")
        #expect(try index.lookup("configs/COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x.yaml").id == "137849600")
        #expect(try index.lookup("mask_rcnn_R_50_FPN_noaug_1x").id == "137781281")
        #expect(try index.lookup("new_baselines/mask_rcnn_R_50_FPN_100ep_LSJ.py").id == "42047764")
        #expect(try index.lookup("detectron2://ImageNetPretrained/MSRA/R-50.pkl").id == "MSRA/R-50")
        #expect(try index.lookup("MSRA/R-50").layout == .detectron2ImageNet)
        #expect(try index.lookup("e2e_mask_rcnn_R-50-FPN_1x").layout == .detectron)
        #expect(try index.lookup("137849600").layout == .detectron2)
        #expect(try index.lookup("torchvision/R-50").layout == .torchvision)
    }

    @Test func ambiguousNameListsTheCandidates() {
        // keypoint_rcnn_R_50_FPN_1x is both a COCO-Keypoints and a Detectron1-Comparisons config.
        #expect {
            try index.lookup("keypoint_rcnn_R_50_FPN_1x")
        } throws: { error in
            guard case IndexError.ambiguousModel(_, let matches) = error else { return false }
            return matches.count == 2 && matches.contains { $0.hasPrefix("137261548") } && matches.contains { $0.hasPrefix("137781195") }
        }
    }

    @Test func unknownModelSuggestsCloseMatches() {
        #expect {
            try index.lookup("COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3y")
        } throws: { error in
            guard case IndexError.unknownModel(_, let suggestions) = error else { return false }
            return suggestions.first == "COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x.yaml"
        }
        #expect {
            try index.lookup("137849601")
        } throws: { error in
            guard case IndexError.unknownModel(_, let suggestions) = error else { return false }
            return suggestions.contains("COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x.yaml") && "\(error)".contains("did you mean")
        }
    }

    @Test func md5PrefixFromFileName() {
        #expect(ZooEntry.md5Prefix(fromFileName: "model_final_f10217.pkl") == "f10217")
        #expect(ZooEntry.md5Prefix(fromFileName: "model_0039999_e76410.pkl") == "e76410")
        #expect(ZooEntry.md5Prefix(fromFileName: "model_final.pkl") == nil)
        #expect(ZooEntry.md5Prefix(fromFileName: "R-50.pkl") == nil)
        #expect(ZooEntry.md5Prefix(fromFileName: "model_final_F10217.pkl") == nil)
        #expect(ZooEntry.md5Prefix(fromFileName: "model_final_f1021.pkl") == nil)
    }
}
