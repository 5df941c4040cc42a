import Testing
@testable import ZooKit

/// Random FrozenBN-normalised conv weights under detectron2 keys, plus the naive forward of the same conv.
struct RandomWeights {
    var rng: SeededRandom
    var tensors: [String: Tensor] = [:]

    init(seed: UInt64) { rng = SeededRandom(seed: seed) }

    mutating func conv(_ prefix: String, out: Int, in cin: Int, k: Int, norm: Bool, bias: Bool = true) {
        tensors[prefix + ".weight"] = rng.tensor([out, cin, k, k], scale: 1 / Float(cin * k * k).squareRoot())
        if norm {
            tensors[prefix + ".norm.weight"] = Tensor(shape: [out], scalars: (0..<out).map { _ in 0.5 + abs(rng.uniform()) })
            tensors[prefix + ".norm.bias"] = rng.tensor([out], scale: 0.2)
            tensors[prefix + ".norm.running_mean"] = rng.tensor([out], scale: 0.2)
            tensors[prefix + ".norm.running_var"] = Tensor(shape: [out], scalars: (0..<out).map { _ in 0.5 + abs(rng.uniform()) })
        } else if bias {
            tensors[prefix + ".bias"] = rng.tensor([out], scale: 0.2)
        }
    }

    mutating func linear(_ prefix: String, out: Int, in cin: Int) {
        tensors[prefix + ".weight"] = rng.tensor([out, cin], scale: 1 / Float(cin).squareRoot())
        tensors[prefix + ".bias"] = rng.tensor([out], scale: 0.2)
    }

    mutating func deconv(_ prefix: String, in cin: Int, out: Int, k: Int) {
        tensors[prefix + ".weight"] = rng.tensor([cin, out, k, k], scale: 1 / Float(cin).squareRoot())
        tensors[prefix + ".bias"] = rng.tensor([out], scale: 0.2)
    }

    /// Naive conv (+ FrozenBN when the keys exist) of `x` with the weights under `prefix`.
    func naiveConv(_ prefix: String, _ x: Tensor, stride: Int = 1, padding: Int = 0, groups: Int = 1) -> Tensor {
        guard let w = tensors[prefix + ".weight"] else { fatalError("no \(prefix)") }
        if let g = tensors[prefix + ".norm.weight"], let b = tensors[prefix + ".norm.bias"],
           let m = tensors[prefix + ".norm.running_mean"], let v = tensors[prefix + ".norm.running_var"] {
            return NaiveOps.frozenBN(NaiveOps.conv2d(x, w, nil, stride: stride, padding: padding, groups: groups),
                                     weight: g, bias: b, mean: m, variance: v)
        }
        return NaiveOps.conv2d(x, w, tensors[prefix + ".bias"], stride: stride, padding: padding, groups: groups)
    }
}

@Suite("ResNet and FPN against naive references")
struct BackboneTests {
    @Test("BottleneckBlock with shortcut, stride and groups, both STRIDE_IN_1X1 settings", arguments: [true, false])
    func bottleneck(strideInOneByOne: Bool) throws {
        var w = RandomWeights(seed: 21)
        let p = "backbone.bottom_up.res3.0"
        w.conv(p + ".shortcut", out: 16, in: 8, k: 1, norm: true)
        w.conv(p + ".conv1", out: 8, in: 8, k: 1, norm: true)
        w.conv(p + ".conv2", out: 8, in: 4, k: 3, norm: true)  // 2 groups of 4
        w.conv(p + ".conv3", out: 16, in: 8, k: 1, norm: true)
        let sd = StateDict(w.tensors)
        let block = try BottleneckBlock(sd, prefix: p, inChannels: 8, outChannels: 16, bottleneckChannels: 8, stride: 2,
                                        numGroups: 2, strideInOneByOne: strideInOneByOne)
        #expect(sd.unusedKeys.isEmpty)
        let x = w.rng.tensor([1, 8, 10, 12])
        let s1 = strideInOneByOne ? 2 : 1, s3 = strideInOneByOne ? 1 : 2
        var t = NaiveOps.relu(w.naiveConv(p + ".conv1", x, stride: s1))
        t = NaiveOps.relu(w.naiveConv(p + ".conv2", t, stride: s3, padding: 1, groups: 2))
        t = w.naiveConv(p + ".conv3", t)
        let want = NaiveOps.relu(NaiveOps.add(t, w.naiveConv(p + ".shortcut", x, stride: 2)))
        let got = try block.forward(x)
        #expect(got.shape == [1, 16, 5, 6])
        #expect(relativeError(got, want) < 1e-5)
    }

    @Test("ResNet-50 structure: keys, strides and channels of every stage")
    func resnetStructure() throws {
        var w = RandomWeights(seed: 2)
        let stem = 4, res2 = 8, width = 2
        w.conv("backbone.bottom_up.stem.conv1", out: stem, in: 3, k: 7, norm: true)
        var cin = stem, cout = res2, b = width
        for (s, count) in [3, 4, 6, 3].enumerated() {
            for i in 0..<count {
                let p = "backbone.bottom_up.res\(s + 2).\(i)"
                if i == 0 { w.conv(p + ".shortcut", out: cout, in: cin, k: 1, norm: true) }
                w.conv(p + ".conv1", out: b, in: i == 0 ? cin : cout, k: 1, norm: true)
                w.conv(p + ".conv2", out: b, in: b, k: 3, norm: true)
                w.conv(p + ".conv3", out: cout, in: b, k: 1, norm: true)
            }
            cin = cout; cout *= 2; b *= 2
        }
        let sd = StateDict(w.tensors)
        let net = try ResNet(sd, widthPerGroup: width, stemOutChannels: stem, res2OutChannels: res2)
        #expect(sd.unusedKeys.isEmpty)
        #expect(net.stageOutChannels == [8, 16, 32, 64])
        let x = w.rng.tensor([1, 3, 64, 96])
        let out = try net.forward(x)
        #expect(out["res2"]?.shape == [1, 8, 16, 24])
        #expect(out["res5"]?.shape == [1, 64, 2, 3])
        // The stem alone against the naive reference.
        let naiveStem = NaiveOps.maxPool(NaiveOps.relu(w.naiveConv("backbone.bottom_up.stem.conv1", x, stride: 2, padding: 3)),
                                         kernel: 3, stride: 2, padding: 1)
        #expect(relativeError(try net.stem.forward(x), naiveStem) < 1e-5)
        // A missing block is reported by its key.
        var missing = w.tensors
        missing["backbone.bottom_up.res4.5.conv2.weight"] = nil
        #expect(throws: EngineError.missingWeight(key: "backbone.bottom_up.res4.5.conv2.weight")) {
            try ResNet(StateDict(missing), widthPerGroup: width, stemOutChannels: stem, res2OutChannels: res2)
        }
    }

    @Test("FPN top-down path and LastLevelMaxPool")
    func fpn() throws {
        var w = RandomWeights(seed: 4)
        let ins = [4, 8, 16, 32], c = 6
        for (i, cin) in ins.enumerated() {
            w.conv("backbone.fpn_lateral\(i + 2)", out: c, in: cin, k: 1, norm: false)
            w.conv("backbone.fpn_output\(i + 2)", out: c, in: c, k: 3, norm: false)
        }
        let sd = StateDict(w.tensors)
        let fpn = try FPN(sd, inChannels: ins, outChannels: c)
        var feats: [String: Tensor] = [:]
        for (i, cin) in ins.enumerated() { feats["res\(i + 2)"] = w.rng.tensor([1, cin, 32 >> i, 48 >> i]) }
        let got = try fpn.forward(feats)
        var prev: Tensor?
        var want: [String: Tensor] = [:]
        for level in [5, 4, 3, 2] {
            guard let f = feats["res\(level)"] else { continue }
            var lat = w.naiveConv("backbone.fpn_lateral\(level)", f)
            if let p = prev { lat = NaiveOps.add(lat, Resampling.upsampleNearest2x(p)) }
            want["p\(level)"] = w.naiveConv("backbone.fpn_output\(level)", lat, padding: 1)
            prev = lat
        }
        for level in 2...5 {
            guard let g = got["p\(level)"], let r = want["p\(level)"] else { Issue.record("p\(level) missing"); continue }
            #expect(relativeError(g, r) < 1e-5)
        }
        guard let p5 = want["p5"], let p6 = got["p6"] else { Issue.record("p6 missing"); return }
        #expect(relativeError(p6, NaiveOps.maxPool(p5, kernel: 1, stride: 2, padding: 0)) < 1e-5)
        #expect(p6.shape == [1, c, 2, 3])
    }
}
