import Foundation
import Testing
@testable import ZooKit

@Suite struct CheckpointLoadingTests {
    static let models = WeightManifest.models

    @Test(arguments: ["tiny_mask_rcnn_R_50_FPN", "tiny_faster_rcnn_R_50_FPN", "tiny_keypoint_rcnn_R_50_FPN"])
    func zooPickleIsBitIdenticalToTheManifest(model: String) throws {
        let manifest = try WeightManifest.model(model)
        let weights = try Checkpoint.loadWeights(from: Self.models.appendingPathComponent("\(model).pkl"))
        #expect(weights.layout == .detectron2)
        #expect(Set(weights.tensors.keys) == Set(manifest.entries.keys))
        #expect(manifest.mismatches(weights.tensors).isEmpty)
        // state_dict order, then the 5 cell anchors (fixtures README 1.1).
        #expect(weights.names.suffix(5) == (0..<5).map { "proposal_generator.anchor_generator.cell_anchors.\($0)" })
    }

    @Test func c2PickleRenamesEveryBlobAsDetectron2Does() throws {
        let url = Self.models.appendingPathComponent("tiny_mask_rcnn_R_50_FPN_c2.pkl")
        let namesData = try Data(contentsOf: Self.models.appendingPathComponent("tiny_mask_rcnn_R_50_FPN_c2.names.json"))
        struct Names: Decodable { var c2_to_d2: [String: String] }
        let expected = try JSONDecoder().decode(Names.self, from: namesData).c2_to_d2
        let contents = try Checkpoint.readArrays(from: url)
        #expect(contents.layout == .detectron)
        var found: [String: String] = [:]
        for (key, blob) in contents.sourceNames where !key.hasSuffix("running_mean") && !key.hasSuffix("running_var") {
            found[blob] = key
        }
        #expect(found == expected)
        #expect(contents.notes.contains { $0.contains("dropped 22 *_momentum") })
    }

    @Test func c2PickleEqualsTheZooModelAfterConversion() throws {
        let manifest = try WeightManifest.model("tiny_mask_rcnn_R_50_FPN")
        let c2 = try Checkpoint.loadWeights(from: Self.models.appendingPathComponent("tiny_mask_rcnn_R_50_FPN_c2.pkl"))
        #expect(c2.layout == .detectron)
        // Same key set as the zoo model, minus the cell anchors (not parameters in Caffe2).
        let anchors = manifest.entries.keys.filter { $0.contains("cell_anchors") }
        #expect(Set(c2.tensors.keys) == Set(manifest.entries.keys).subtracting(anchors))
        // Every non-norm tensor (convs, fc, predictors after the background-row fixes) is bit-identical.
        let plain = c2.tensors.keys.filter { !$0.contains(".norm.") }
        #expect(plain.count == 95)
        #expect(manifest.mismatches(c2.tensors, keys: plain).isEmpty)
        // AffineChannel norms: mean 0, var 1, and the folded scale/shift equal the zoo model's.
        let zoo = try Checkpoint.loadWeights(from: Self.models.appendingPathComponent("tiny_mask_rcnn_R_50_FPN.pkl"))
        let eps: Float = 1e-5
        var checked = 0
        for key in c2.tensors.keys where key.hasSuffix(".norm.weight") {
            let base = String(key.dropLast("weight".count))
            let s = try #require(c2.tensors[key]), b = try #require(c2.tensors[base + "bias"])
            #expect(c2.tensors[base + "running_mean"]?.scalars.allSatisfy { $0 == 0 } == true)
            #expect(c2.tensors[base + "running_var"]?.scalars.allSatisfy { $0 == 1 } == true)
            let w = try #require(zoo.tensors[key]), bias = try #require(zoo.tensors[base + "bias"])
            let rm = try #require(zoo.tensors[base + "running_mean"]), rv = try #require(zoo.tensors[base + "running_var"])
            for i in 0..<s.count {
                let zooScale = w.scalars[i] / (rv.scalars[i] + eps).squareRoot()
                let c2Scale = s.scalars[i] / (1 + eps).squareRoot()
                let zooShift = bias.scalars[i] - rm.scalars[i] * zooScale
                #expect(abs(c2Scale - zooScale) <= 1e-5 * max(1, abs(zooScale)), "\(key)[\(i)]")
                #expect(abs(b.scalars[i] - zooShift) <= 1e-4 * max(1, abs(zooShift)), "\(base)bias[\(i)]")
            }
            checked += 1
        }
        #expect(checked == 53)
    }

    @Test func suffixMatchingAgreesWithTheFullKeys() throws {
        let manifest = try WeightManifest.model("tiny_mask_rcnn_R_50_FPN")
        let contents = try Checkpoint.readArrays(from: Self.models.appendingPathComponent("tiny_mask_rcnn_R_50_FPN_c2.pkl"))
        // The short names detectron2 matches by suffix, and the full keys zoo writes.
        var shortToFull: [String: String] = [:]
        for (key, blob) in contents.sourceNames where !key.hasSuffix("running_mean") && !key.hasSuffix("running_var") {
            shortToFull[C2NameMapping.renamed(blob)] = key
        }
        let matched = try C2NameMapping.alignC2Names(checkpointKeys: Array(shortToFull.keys), modelKeys: Array(manifest.entries.keys))
        #expect(matched.count == shortToFull.count)
        for (modelKey, checkpointKey) in matched {
            #expect(shortToFull[checkpointKey] == modelKey)
        }
    }

    @Test func suffixMatchingPrefersTheLongestAndRefusesAmbiguity() throws {
        let matched = try C2NameMapping.alignC2Names(
            checkpointKeys: ["conv1.weight", "res2.conv1.weight"],
            modelKeys: ["backbone.res2.conv1.weight", "backbone.stem.conv1.weight", "head.myconv1.weight"])
        #expect(matched == ["backbone.res2.conv1.weight": "res2.conv1.weight", "backbone.stem.conv1.weight": "conv1.weight"])
        #expect(throws: CheckpointError.self) {
            try C2NameMapping.alignC2Names(checkpointKeys: ["weight"], modelKeys: ["a.weight", "b.weight"])
        }
    }

    @Test(arguments: [
        ("conv1_w", "stem.conv1.weight"),
        ("res_conv1_bn_s", "stem.conv1.norm.weight"),
        ("res3_2_branch2b_bn_b", "res3.2.conv2.norm.bias"),
        ("res4_0_branch1_bn_rm", "res4.0.shortcut.norm.running_mean"),
        ("res4_0_branch1_bn_riv", "res4.0.shortcut.norm.running_var"),
        ("fpn_inner_res5_2_sum_w", "fpn_lateral5.weight"),
        ("fpn_inner_res3_3_sum_lateral_b", "fpn_lateral3.bias"),
        ("fpn_res2_2_sum_w", "fpn_output2.weight"),
        ("conv_rpn_w", "proposal_generator.rpn_head.conv.weight"),
        ("rpn_bbox_pred_fpn2_b", "proposal_generator.rpn_head.anchor_deltas.bias"),
        ("head_conv1_gn_s", "box_head.conv1.norm.weight"),
        ("_[mask]_fcn2_w", "mask_head.mask_fcn2.weight"),
        ("conv5_mask_b", "mask_head.deconv.bias"),
        ("mask_fcn_logits_w", "mask_head.predictor.weight"),
        ("conv_fcn8_w", "roi_heads.keypoint_head.conv_fcn8.weight"),
        ("kps_score_lowres_b", "roi_heads.keypoint_head.score_lowres.bias"),
        ("pred_w", "linear.weight"),
    ])
    func renamesCaffe2Blobs(blob: String, expected: String) {
        #expect(C2NameMapping.renamed(blob) == expected)
    }

    @Test func torchvisionFilesKeepTheirNamesAndAskForSuffixMatching() throws {
        // {"model": {"stem.conv1.weight": float32[2]}, "__author__": "torchvision", "matching_heuristics": True}, protocol 2.
        var bytes: [UInt8] = [0x80, 0x02, 0x7D, 0x28]
        func unicode(_ text: String) { bytes += [0x58] + withUnsafeBytes(of: UInt32(text.utf8.count).littleEndian, Array.init) + Array(text.utf8) }
        unicode("model")
        bytes += [0x7D]
        unicode("stem.conv1.weight")
        bytes += Array("cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n".utf8) + [0x4B, 0x00, 0x85]
        bytes += [0x43, 0x01, 0x62, 0x87, 0x52, 0x28, 0x4B, 0x01, 0x4B, 0x02, 0x85]
        bytes += Array("cnumpy\ndtype\n".utf8)
        unicode("f4")
        bytes += [0x89, 0x88, 0x87, 0x52, 0x28, 0x4B, 0x03]
        unicode("<")
        bytes += [0x4E, 0x4E, 0x4E, 0x4A, 0xFF, 0xFF, 0xFF, 0xFF, 0x4A, 0xFF, 0xFF, 0xFF, 0xFF, 0x4B, 0x00, 0x74, 0x62, 0x89]
        bytes += [0x43, 0x08, 0, 0, 0x80, 0x3F, 0, 0, 0, 0x40, 0x74, 0x62, 0x73]  // [1, 2], BUILD, SETITEM
        unicode("__author__"); unicode("torchvision")
        unicode("matching_heuristics")
        bytes += [0x88, 0x75, 0x2E]
        let document = try PickleReader.read(data: Data(bytes))
        let contents = try PickleCheckpoint.contents(of: document, file: "tv.pkl")
        #expect(contents.layout == .torchvision)
        #expect(contents.arrays.map(\.name) == ["stem.conv1.weight"])
        #expect(try contents.arrays.first?.array.floatTensor().scalars == [1, 2])
        #expect(contents.metadata["matching_heuristics"] == "true")
    }

    @Test func c4KeysPutRes5InTheROIHeads() {
        #expect(C2NameMapping.detectron2Key(forRenamed: "res5.0.conv1.weight", fpn: false) == "roi_heads.res5.0.conv1.weight")
        #expect(C2NameMapping.detectron2Key(forRenamed: "res4.0.conv1.weight", fpn: false) == "backbone.res4.0.conv1.weight")
        #expect(C2NameMapping.detectron2Key(forRenamed: "res5.0.conv1.weight", fpn: true) == "backbone.bottom_up.res5.0.conv1.weight")
        #expect(C2NameMapping.detectron2Key(forRenamed: "bbox_pred.weight", fpn: true) == "roi_heads.box_predictor.bbox_pred.weight")
    }
}
