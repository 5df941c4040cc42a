import ZooKit

/// Deterministic random weights under detectron2's keys for the full-size R50-FPN models
/// (the shapes of zoo ids 137781054 Faster, 137781281 Mask, 137781195 Keypoint R-CNN).
struct WeightGenerator {
    var rng: BenchRandom
    var tensors: [String: Tensor] = [:]

    init(seed: UInt64) { rng = BenchRandom(seed: seed) }

    /// `gain` scales the weights (box-delta layers use a small one, as trained models have: large
    /// random deltas would make degenerate boxes, and fewer than 1000 proposals / 100 detections).
    mutating func conv(_ key: String, _ o: Int, _ i: Int, _ k: Int, norm: Bool, gain: Float = 1) {
        tensors[key + ".weight"] = rng.tensor([o, i, k, k], scale: gain * (2 / Float(i * k * k)).squareRoot())
        if norm {
            tensors[key + ".norm.weight"] = Tensor(shape: [o], repeating: 1)
            tensors[key + ".norm.bias"] = rng.tensor([o], scale: 0.1)
            tensors[key + ".norm.running_mean"] = rng.tensor([o], scale: 0.1)
            tensors[key + ".norm.running_var"] = Tensor(shape: [o], repeating: 1)
        } else {
            tensors[key + ".bias"] = rng.tensor([o], scale: 0.1)
        }
    }

    mutating func linear(_ key: String, _ o: Int, _ i: Int, gain: Float = 1) {
        tensors[key + ".weight"] = rng.tensor([o, i], scale: gain * (2 / Float(i)).squareRoot())
        tensors[key + ".bias"] = rng.tensor([o], scale: 0.1)
    }

    mutating func deconv(_ key: String, _ i: Int, _ o: Int, _ k: Int) {
        tensors[key + ".weight"] = rng.tensor([i, o, k, k], scale: (2 / Float(i)).squareRoot())
        tensors[key + ".bias"] = rng.tensor([o], scale: 0.1)
    }

    mutating func r50fpn(model: String) -> StateDict {
        let p = "backbone.bottom_up"
        conv(p + ".stem.conv1", 64, 3, 7, norm: true)
        var cin = 64, cout = 256, b = 64
        for (s, count) in [3, 4, 6, 3].enumerated() {
            for i in 0..<count {
                let k = "\(p).res\(s + 2).\(i)"
                if i == 0 { conv(k + ".shortcut", cout, cin, 1, norm: true) }
                conv(k + ".conv1", b, i == 0 ? cin : cout, 1, norm: true)
                conv(k + ".conv2", b, b, 3, norm: true)
                conv(k + ".conv3", cout, b, 1, norm: true)
            }
            cin = cout; cout *= 2; b *= 2
        }
        for (i, c) in [256, 512, 1024, 2048].enumerated() {
            conv("backbone.fpn_lateral\(i + 2)", 256, c, 1, norm: false)
            conv("backbone.fpn_output\(i + 2)", 256, 256, 3, norm: false)
        }
        conv("proposal_generator.rpn_head.conv", 256, 256, 3, norm: false)
        conv("proposal_generator.rpn_head.objectness_logits", 3, 256, 1, norm: false)
        conv("proposal_generator.rpn_head.anchor_deltas", 12, 256, 1, norm: false, gain: 0.01)
        linear("roi_heads.box_head.fc1", 1024, 256 * 49)
        linear("roi_heads.box_head.fc2", 1024, 1024)
        let classes = model == "keypoint" ? 1 : 80
        linear("roi_heads.box_predictor.cls_score", classes + 1, 1024)
        linear("roi_heads.box_predictor.bbox_pred", 4 * classes, 1024, gain: 0.01)
        if model == "mask" {
            for i in 1...4 { conv("roi_heads.mask_head.mask_fcn\(i)", 256, 256, 3, norm: false) }
            deconv("roi_heads.mask_head.deconv", 256, 256, 2)
            conv("roi_heads.mask_head.predictor", 80, 256, 1, norm: false)
        }
        if model == "keypoint" {
            for i in 1...8 { conv("roi_heads.keypoint_head.conv_fcn\(i)", 512, i == 1 ? 256 : 512, 3, norm: false) }
            deconv("roi_heads.keypoint_head.score_lowres", 512, 17, 4)
        }
        return StateDict(tensors)
    }
}

/// FLOP counts (2 x multiply-adds) of the dense layers, by walking the modules with the shapes
/// the benchmark feeds them.
enum Flops {
    static func conv(_ c: Conv2d, _ input: [Int]) -> (Double, [Int]) {
        let out = c.outputShape(input)
        let f = 2.0 * Double(out.reduce(1, *)) * Double(c.weight.shape[1] * c.weight.shape[2] * c.weight.shape[3])
        return (f, out)
    }

    static func deconv(_ d: ConvTranspose2d, _ input: [Int]) -> (Double, [Int]) {
        let f = 2.0 * Double(input.reduce(1, *)) * Double(d.outChannels * d.weight.shape[2] * d.weight.shape[3])
        return (f, d.outputShape(input))
    }

    /// The dense layers' FLOPs of one `predict`.
    struct Count {
        var total = 0.0
        /// The part in 3x3 stride-1 convolutions (those oneDNN can run with Winograd).
        var winograd = 0.0
        /// `winograd` as oneDNN's F(4x4, 3x3) computes it: each output padded to whole 4x4 tiles
        /// (a 14x14 head region is computed as 16x16, 31% more; the ceiling's 200x336 is whole tiles).
        var winogradTiled = 0.0
    }

    /// The dense layers' FLOPs of one `predict` on `image` with `proposals` RoIs in the box head and
    /// `detections` in the mask/keypoint head.
    static func model(_ net: GeneralizedRCNN, image: [Int], proposals: Int, detections: Int) -> Count {
        let backbone = net.backbone, rpn = net.rpnHead
        var total = 0.0, winograd = 0.0, winogradTiled = 0.0
        func conv(_ c: Conv2d, _ input: [Int]) -> (Double, [Int]) {
            let r = Flops.conv(c, input)
            if c.weight.shape[2] == 3, c.weight.shape[3] == 3, c.stride == 1, c.groups == 1 {
                winograd += r.0
                let h = r.1[2], w = r.1[3]
                if h > 0, w > 0 { winogradTiled += r.0 * Double(tiled(h) * tiled(w)) / Double(h * w) }
            }
            return r
        }
        var (f, x) = conv(backbone.bottomUp.stem.conv1, image)
        total += f
        x = [x[0], x[1], (x[2] + 1) / 2, (x[3] + 1) / 2]  // max-pool 3x3/2 pad 1
        var stageShapes: [[Int]] = []
        for blocks in backbone.bottomUp.stages {
            for b in blocks {
                if let s = b.shortcut { total += conv(s, x).0 }
                var y: [Int]
                (f, y) = conv(b.conv1, x); total += f
                (f, y) = conv(b.conv2, y); total += f
                (f, y) = conv(b.conv3, y); total += f
                x = y
            }
            stageShapes.append(x)
        }
        var levels: [[Int]] = []
        for (i, s) in stageShapes.enumerated() {
            let (fl, l) = conv(backbone.fpn.lateral[i], s)
            let (fo, o) = conv(backbone.fpn.output[i], l)
            total += fl + fo
            levels.append(o)
        }
        if let p5 = levels.last { levels.append([p5[0], p5[1], (p5[2] + 1) / 2, (p5[3] + 1) / 2]) }
        for l in levels {
            let (fc, t) = conv(rpn.conv, l)
            total += fc + conv(rpn.objectnessLogits, t).0 + conv(rpn.anchorDeltas, t).0
        }
        let rows = Double(proposals)
        for fc in net.boxHead.fcs { total += 2 * rows * Double(fc.inFeatures * fc.outFeatures) }
        let predictor = net.boxPredictor
        total += 2 * rows * Double(predictor.clsScore.inFeatures * (predictor.clsScore.outFeatures + predictor.bboxPred.outFeatures))
        let count = { Count(total: total, winograd: winograd, winogradTiled: winogradTiled) }
        guard detections > 0 else { return count() }
        var y = [detections, backbone.fpn.outChannels, 14, 14]
        if let mask = net.maskHead {
            for c in mask.convs { (f, y) = conv(c, y); total += f }
            (f, y) = deconv(mask.deconv, y); total += f
            total += conv(mask.predictor, y).0
        }
        if let keypoint = net.keypointHead {
            for c in keypoint.convs { (f, y) = conv(c, y); total += f }
            total += deconv(keypoint.scoreLowres, y).0
        }
        return count()
    }

    /// `n` rounded up to whole F(4x4, 3x3) output tiles.
    static func tiled(_ n: Int) -> Int { (n + 3) / 4 * 4 }
}
