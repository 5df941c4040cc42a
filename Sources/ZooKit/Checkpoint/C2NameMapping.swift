import Foundation

/// Caffe2 (Detectron1) blob names to detectron2 names, following detectron2's
/// `checkpoint/c2_model_loading.py` (`convert_basic_c2_names`, `convert_c2_detectron_names`,
/// `align_and_update_state_dicts`).
public enum C2NameMapping {
    /// detectron2's renaming of one Caffe2 blob name (`res2_0_branch2a_w` ->
    /// `res2.0.conv1.weight`, `cls_score_w` -> `cls_score.weight`), before suffix matching.
    public static func renamed(_ blob: String) -> String {
        var key = blob == "pred_b" ? "linear_b" : blob == "pred_w" ? "linear_w" : blob
        key = key.replacingOccurrences(of: "_", with: ".")
        key = replacingSuffix(key, ".b", ".bias")
        key = replacingSuffix(key, ".w", ".weight")
        // Uniform both bn and gn names to "norm".
        key = replacingSuffix(key, "bn.s", "norm.weight")
        key = replacingSuffix(key, "bn.bias", "norm.bias")
        key = replacingAll(key, "bn.rm", "norm.running_mean")
        key = replacingSuffix(key, "bn.running.mean", "norm.running_mean")
        key = replacingSuffix(key, "bn.riv", "norm.running_var")
        key = replacingSuffix(key, "bn.running.var", "norm.running_var")
        key = replacingSuffix(key, "bn.gamma", "norm.weight")
        key = replacingSuffix(key, "bn.beta", "norm.bias")
        key = replacingSuffix(key, "gn.s", "norm.weight")
        key = replacingSuffix(key, "gn.bias", "norm.bias")
        // Stem.
        key = replacingPrefix(key, "res.conv1.norm.", "conv1.norm.")
        key = replacingPrefix(key, "conv1.", "stem.conv1.")
        // Blocks.
        key = key.replacingOccurrences(of: ".branch1.", with: ".shortcut.")
        key = key.replacingOccurrences(of: ".branch2a.", with: ".conv1.")
        key = key.replacingOccurrences(of: ".branch2b.", with: ".conv2.")
        key = key.replacingOccurrences(of: ".branch2c.", with: ".conv3.")
        // DensePose substitutions (kept so the names equal detectron2's for every file).
        key = replacingPrefix(key, "body.conv.fcn", "body_conv_fcn")
        key = key.replacingOccurrences(of: "AnnIndex.lowres", with: "ann_index_lowres")
        key = key.replacingOccurrences(of: "Index.UV.lowres", with: "index_uv_lowres")
        key = key.replacingOccurrences(of: "U.lowres", with: "u_lowres")
        key = key.replacingOccurrences(of: "V.lowres", with: "v_lowres")
        // RPN (FPN: the level-2 convs are shared by all levels).
        key = key.replacingOccurrences(of: "conv.rpn.fpn2", with: "proposal_generator.rpn_head.conv")
        key = key.replacingOccurrences(of: "conv.rpn", with: "proposal_generator.rpn_head.conv")
        key = key.replacingOccurrences(of: "rpn.bbox.pred.fpn2", with: "proposal_generator.rpn_head.anchor_deltas")
        key = key.replacingOccurrences(of: "rpn.cls.logits.fpn2", with: "proposal_generator.rpn_head.objectness_logits")
        key = key.replacingOccurrences(of: "rpn.bbox.pred", with: "proposal_generator.rpn_head.anchor_deltas")
        key = key.replacingOccurrences(of: "rpn.cls.logits", with: "proposal_generator.rpn_head.objectness_logits")
        // Fast R-CNN box head.
        key = replacingPrefix(key, "bbox.pred", "bbox_pred")
        key = replacingPrefix(key, "cls.score", "cls_score")
        key = replacingPrefix(key, "fc6.", "box_head.fc1.")
        key = replacingPrefix(key, "fc7.", "box_head.fc2.")
        key = replacingPrefix(key, "head.conv", "box_head.conv")
        // FPN lateral and output convolutions.
        key = fpnMap(key)
        // Mask head.
        key = key.replacingOccurrences(of: ".[mask].fcn", with: "mask_head.mask_fcn")
        key = replacingPrefix(key, ".mask.fcn", "mask_head.mask_fcn")
        key = key.replacingOccurrences(of: "mask.fcn.logits", with: "mask_head.predictor")
        key = key.replacingOccurrences(of: "conv5.mask", with: "mask_head.deconv")
        // Keypoint head.
        key = key.replacingOccurrences(of: "conv.fcn", with: "roi_heads.keypoint_head.conv_fcn")
        key = key.replacingOccurrences(of: "kps.score.lowres", with: "roi_heads.keypoint_head.score_lowres")
        key = key.replacingOccurrences(of: "kps.score.", with: "roi_heads.keypoint_head.score.")
        return key
    }

    /// `fpn_map` in `convert_c2_detectron_names`.
    static func fpnMap(_ name: String) -> String {
        let splits = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let norm = splits.contains("norm") ? ".norm" : ""
        guard let last = splits.last else { return name }
        if name.hasPrefix("fpn.inner."), splits.count > 2, let stage = Int(splits[2].dropFirst(3)), splits[2].hasPrefix("res") {
            return "fpn_lateral\(stage)\(norm).\(last)"
        }
        if name.hasPrefix("fpn.res"), splits.count > 1, let stage = Int(splits[1].dropFirst(3)) {
            return "fpn_output\(stage)\(norm).\(last)"
        }
        return name
    }

    /// How many leading rows the background-row fix drops from a renamed key, or nil if it
    /// does not apply; `cls_score` instead moves its row 0 to the end.
    static func droppedBackgroundRows(_ renamed: String) -> Int? {
        if renamed.hasPrefix("bbox_pred.") { return 4 }
        if renamed.hasPrefix("mask_head.predictor.") { return 1 }
        return nil
    }

    /// The full detectron2 key for a renamed C2 key in the R-CNN families detectron2 ships
    /// Detectron1 weights for: with FPN (`backbone.bottom_up.resN`, `backbone.fpn_*`,
    /// `roi_heads.box_head`) or C4 (`backbone.resN` for res2-4, `roi_heads.res5`). These are
    /// the keys `align_and_update_state_dicts` matches them to in `GeneralizedRCNN`.
    public static func detectron2Key(forRenamed key: String, fpn: Bool) -> String {
        let isBackbone = key.hasPrefix("stem.") || ["res2.", "res3.", "res4.", "res5."].contains { key.hasPrefix($0) }
        if isBackbone {
            if fpn { return "backbone.bottom_up." + key }
            return key.hasPrefix("res5.") ? "roi_heads." + key : "backbone." + key
        }
        if key.hasPrefix("fpn_lateral") || key.hasPrefix("fpn_output") { return "backbone." + key }
        if key.hasPrefix("cls_score.") || key.hasPrefix("bbox_pred.") { return "roi_heads.box_predictor." + key }
        if key.hasPrefix("box_head.") || key.hasPrefix("mask_head.") { return "roi_heads." + key }
        return key
    }

    /// detectron2's suffix matching (`align_and_update_state_dicts`): for each model key, the
    /// longest checkpoint key `c` with `k == c` or `k` ending in `"." + c`. Returns model key ->
    /// checkpoint key for the matched ones; throws if one checkpoint key matches two model keys.
    /// (Shape checks are left to the caller, which knows the model's shapes.)
    public static func alignC2Names(checkpointKeys: [String], modelKeys: [String]) throws -> [String: String] {
        var result: [String: String] = [:]
        var owner: [String: String] = [:]
        for modelKey in modelKeys.sorted() {
            var best: String?
            for key in checkpointKeys where modelKey == key || modelKey.hasSuffix("." + key) {
                if key.count > (best?.count ?? 0) { best = key }
            }
            guard let match = best else { continue }
            if let other = owner[match] {
                throw CheckpointError.ambiguousC2Match(checkpointKey: match, modelKeys: [other, modelKey])
            }
            owner[match] = modelKey
            result[modelKey] = match
        }
        return result
    }

    private static func replacingSuffix(_ key: String, _ suffix: String, _ replacement: String) -> String {
        key.hasSuffix(suffix) ? String(key.dropLast(suffix.count)) + replacement : key
    }

    private static func replacingPrefix(_ key: String, _ prefix: String, _ replacement: String) -> String {
        key.hasPrefix(prefix) ? replacement + key.dropFirst(prefix.count) : key
    }

    /// `re.sub` of an unanchored literal replaces every occurrence.
    private static func replacingAll(_ key: String, _ target: String, _ replacement: String) -> String {
        key.replacingOccurrences(of: target, with: replacement)
    }
}
