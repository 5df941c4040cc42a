import Testing
@testable import ZooKit

@Suite("Dense ops against naive references")
struct DenseOpsTests {
    @Test("Conv2d matches the naive convolution", arguments: [
        // (n, c, h, w, o, k, stride, pad, groups)
        (1, 3, 11, 13, 8, 7, 2, 3, 1),
        (2, 16, 9, 10, 16, 3, 1, 1, 1),
        (1, 8, 8, 7, 12, 1, 2, 0, 1),
        (1, 8, 9, 9, 8, 3, 1, 1, 4),
        (1, 32, 12, 12, 32, 3, 2, 1, 1),
    ])
    func conv(_ p: (Int, Int, Int, Int, Int, Int, Int, Int, Int)) throws {
        let (n, c, h, w, o, k, s, pad, g) = p
        var rng = SeededRandom(seed: UInt64(n * 1000 + c * 10 + k))
        let x = rng.tensor([n, c, h, w]), wt = rng.tensor([o, c / g, k, k], scale: 0.3), b = rng.tensor([o])
        let conv = Conv2d(weight: wt, bias: b, stride: s, padding: pad, groups: g)
        let got = try conv.forward(x)
        let want = NaiveOps.conv2d(x, wt, b, stride: s, padding: pad, groups: g)
        #expect(got.shape == want.shape)
        #expect(relativeError(got, want) < 1e-5)
    }

    @Test("Conv2d fuses the residual sum and ReLU")
    func convResidualReLU() throws {
        var rng = SeededRandom(seed: 7)
        let x = rng.tensor([1, 16, 10, 9]), wt = rng.tensor([32, 16, 1, 1], scale: 0.3), b = rng.tensor([32])
        let r = rng.tensor([1, 32, 10, 9])
        let conv = Conv2d(weight: wt, bias: b, relu: true, addsResidual: true)
        let got = try conv.forward(x, residual: r)
        let want = NaiveOps.relu(NaiveOps.add(NaiveOps.conv2d(x, wt, b, stride: 1, padding: 0), r))
        #expect(relativeError(got, want) < 1e-5)
        #expect(got.scalars.contains(0))
        // Same primitive, second shape: the per-shape cache must not mix them up.
        let x2 = rng.tensor([1, 16, 4, 6]), r2 = rng.tensor([1, 32, 4, 6])
        let got2 = try conv.forward(x2, residual: r2)
        #expect(relativeError(got2, NaiveOps.relu(NaiveOps.add(NaiveOps.conv2d(x2, wt, b, stride: 1, padding: 0), r2))) < 1e-5)
    }

    @Test("Winograd 3x3 stays within float noise of the naive convolution")
    func winograd() throws {
        var rng = SeededRandom(seed: 11)
        let x = NaiveOps.relu(rng.tensor([1, 64, 20, 24])), wt = rng.tensor([64, 64, 3, 3], scale: 0.1), b = rng.tensor([64])
        let conv = Conv2d(weight: wt, bias: b, padding: 1, algorithm: .winograd)
        let got = try conv.forward(x)
        #expect(relativeError(got, NaiveOps.conv2d(x, wt, b, stride: 1, padding: 1)) < 1e-4)
    }

    @Test("Conv2d folds FrozenBN from the state dict")
    func frozenBNFold() throws {
        var rng = SeededRandom(seed: 3)
        let x = rng.tensor([1, 4, 6, 5]), wt = rng.tensor([6, 4, 3, 3], scale: 0.3)
        let gamma = rng.tensor([6]), beta = rng.tensor([6]), mean = rng.tensor([6])
        let variance = Tensor(shape: [6], scalars: rng.tensor([6]).scalars.map { abs($0) + 0.1 })
        let sd = StateDict(["c.weight": wt, "c.norm.weight": gamma, "c.norm.bias": beta,
                            "c.norm.running_mean": mean, "c.norm.running_var": variance])
        let conv = try Conv2d(sd, "c", in: 4, out: 6, kernel: 3, padding: 1, norm: true, bias: false)
        let want = NaiveOps.frozenBN(NaiveOps.conv2d(x, wt, nil, stride: 1, padding: 1),
                                     weight: gamma, bias: beta, mean: mean, variance: variance)
        #expect(relativeError(try conv.forward(x), want) < 1e-5)
        #expect(sd.unusedKeys.isEmpty)
    }

    @Test("FrozenBN's factor is kept beside the weight, which stays the loaded tensor; two modules may read one weight")
    func frozenBNScaleKept() throws {
        var rng = SeededRandom(seed: 4)
        let dict = ["c.weight": rng.tensor([6, 4, 3, 3]), "c.norm.weight": rng.tensor([6]), "c.norm.bias": rng.tensor([6]),
                    "c.norm.running_mean": rng.tensor([6]), "c.norm.running_var": Tensor(shape: [6], repeating: 2)]
        let original = try #require(dict["c.weight"]), gamma = try #require(dict["c.norm.weight"])
        let address = original.scalars.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
        let scale = gamma.scalars.map { $0 / (Float(2) + 1e-5).squareRoot() }
        let expected = original.scalars.enumerated().map { i, w in w * scale[i / 36] }
        let sd = StateDict(dict)
        let conv = try Conv2d(sd, "c", in: 4, out: 6, kernel: 3, padding: 1, norm: true, bias: false)
        #expect(conv.weight.scalars.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } == address)
        #expect(conv.weight == original)
        #expect(conv.weightScale == scale)
        #expect(conv.foldedWeight.scalars == expected)
        let again = try Conv2d(sd, "c", in: 4, out: 6, kernel: 3, padding: 1, norm: true, bias: false)
        #expect(again.weight == original && again.weightScale == scale)
    }

    @Test("A weight scale gives the same outputs, to the bit, as the weight folded beforehand",
          arguments: [(3, 1, 1, ConvolutionAlgorithm.winograd), (1, 1, 1, .direct), (3, 2, 1, .direct), (3, 1, 2, .direct)])
    func weightScaleMatchesFoldedWeight(_ p: (kernel: Int, stride: Int, groups: Int, algorithm: ConvolutionAlgorithm)) throws {
        var rng = SeededRandom(seed: UInt64(20 + p.kernel * 2 + p.stride + p.groups * 5))
        let x = NaiveOps.relu(rng.tensor([1, 32, 14, 18])), wt = rng.tensor([48, 32 / p.groups, p.kernel, p.kernel], scale: 0.2)
        let b = rng.tensor([48])
        let scale = (0..<48).map { Float($0 % 7 + 1) * 0.37 }
        let folded = Tensor(shape: wt.shape, scalars: wt.scalars.enumerated().map { i, w in w * scale[i / (wt.count / 48)] })
        let pad = p.kernel / 2
        let scaled = Conv2d(weight: wt, weightScale: scale, bias: b, stride: p.stride, padding: pad, groups: p.groups, relu: true,
                            algorithm: p.algorithm)
        let plain = Conv2d(weight: folded, bias: b, stride: p.stride, padding: pad, groups: p.groups, relu: true,
                           algorithm: p.algorithm)
        #expect(scaled.foldedWeight.scalars == folded.scalars)
        // The plain-layout path and the blocked path (oneDNN's reorder or the Winograd transform).
        #expect(try scaled.forward(x).scalars == plain.forward(x).scalars)
        let blockedX = try DNNLTensor(plain: x, context: "test").blocked(context: "test")
        let got = try scaled.forward(blockedX).tensor(context: "test"), want = try plain.forward(blockedX).tensor(context: "test")
        #expect(got.scalars == want.scalars)
        // Not trivially so: the scale changes the answer.
        let unscaled = Conv2d(weight: wt, bias: b, stride: p.stride, padding: pad, groups: p.groups, relu: true,
                              algorithm: p.algorithm)
        #expect(try unscaled.forward(x).scalars != want.scalars)
    }

    @Test("Missing and misshapen weights are errors naming the key")
    func weightErrors() throws {
        let sd = StateDict(["c.weight": Tensor(shape: [6, 4, 3, 3])])
        #expect(throws: EngineError.missingWeight(key: "c.bias")) {
            try Conv2d(sd, "c", in: 4, out: 6, kernel: 3)
        }
        #expect(throws: EngineError.weightShape(key: "c.weight", expected: [6, 4, 1, 1], actual: [6, 4, 3, 3])) {
            try Conv2d(sd, "c", in: 4, out: 6, kernel: 1)
        }
        let conv = Conv2d(weight: Tensor(shape: [6, 4, 3, 3]), bias: nil)
        #expect(throws: EngineError.self) { try conv.forward(Tensor(shape: [1, 5, 8, 8])) }
    }

    @Test("ConvTranspose2d matches the naive transposed convolution, on plain and on blocked input", arguments: [
        (2, 4, 5, 6, 2, 2, 0), (1, 3, 7, 5, 4, 2, 1), (2, 8, 4, 4, 4, 2, 1), (3, 24, 5, 17, 4, 2, 1), (2, 32, 4, 6, 2, 2, 0),
    ])
    func deconv(_ p: (Int, Int, Int, Int, Int, Int, Int)) throws {
        let (n, c, h, o, k, s, pad) = p
        var rng = SeededRandom(seed: UInt64(c * 100 + k))
        let x = rng.tensor([n, c, h, h + 1]), wt = rng.tensor([c, o, k, k], scale: 0.5), b = rng.tensor([o])
        let layer = ConvTranspose2d(weight: wt, bias: b, stride: s, padding: pad)
        let got = try layer.forward(x)
        let want = NaiveOps.convTranspose2d(x, wt, b, stride: s, padding: pad)
        #expect(got.shape == want.shape)
        #expect(relativeError(got, want) < 1e-5)
        let fusedLayer = ConvTranspose2d(weight: wt, bias: b, stride: s, padding: pad, relu: true)
        let fused = try fusedLayer.forward(x)
        #expect(relativeError(fused, NaiveOps.relu(want)) < 1e-5)
        // nChw16c input (as the keypoint tower hands it over) gives the same values, bit for bit.
        let blocked = try DNNLTensor(plain: x, context: "test").blocked(context: "test")
        #expect(blocked.isBlocked)
        let fromBlocked = try fusedLayer.forward(blocked)
        let same = fromBlocked.shape == fused.shape && fromBlocked.scalars == fused.scalars
        #expect(same, "largest difference \(zip(fromBlocked.scalars, fused.scalars).map { abs($0 - $1) }.max() ?? 0)")
    }

    @Test("Linear matches the naive matrix product, with and without ReLU")
    func linear() throws {
        var rng = SeededRandom(seed: 5)
        let x = rng.tensor([7, 3, 2, 2]), wt = rng.tensor([9, 12]), b = rng.tensor([9])
        let flat = Tensor(shape: [7, 12], scalars: x.scalars)
        #expect(relativeError(try Linear(weight: wt, bias: b).forward(x), NaiveOps.linear(flat, wt, b)) < 1e-5)
        let r = try Linear(weight: wt, bias: b, relu: true).forward(x)
        #expect(relativeError(r, NaiveOps.relu(NaiveOps.linear(flat, wt, b))) < 1e-5)
        #expect(try Linear(weight: wt, bias: b).forward(Tensor(shape: [0, 12])).shape == [0, 9])
    }

    @Test("A large Linear weight is read as given (sgemm transposes it), a small one is transposed once; both compute the product")
    func linearLargeWeight() throws {
        var rng = SeededRandom(seed: 6)
        let k = Linear.transposeLimit / MemoryLayout<Float>.size / 256 + 1
        let wt = rng.tensor([256, k], scale: 0.05), b = rng.tensor([256]), x = rng.tensor([5, k])
        let large = try Linear(weight: wt, bias: b, relu: true)
        guard case .asGiven = large.weights else { Issue.record("a weight over the limit is transposed"); return }
        #expect(relativeError(try large.forward(x), NaiveOps.relu(NaiveOps.linear(x, wt, b))) < 1e-5)
        let small = try Linear(weight: rng.tensor([9, 12]), bias: nil)
        guard case .transposed = small.weights else { Issue.record("a weight under the limit is not transposed"); return }
    }

    @Test("Max pooling, nearest and bilinear x2 upsampling follow PyTorch")
    func resampling() throws {
        var rng = SeededRandom(seed: 9)
        let x = rng.tensor([2, 3, 9, 8])
        #expect(Resampling.maxPool2d(x, kernel: 3, stride: 2, padding: 1) == NaiveOps.maxPool(x, kernel: 3, stride: 2, padding: 1))
        #expect(Resampling.maxPool2d(x, kernel: 1, stride: 2, padding: 0) == NaiveOps.maxPool(x, kernel: 1, stride: 2, padding: 0))
        let up = Resampling.upsampleNearest2x(x)
        #expect(up.shape == [2, 3, 18, 16])
        #expect(up.scalars[(1 * 18 + 5) * 16 + 7] == x.scalars[(1 * 9 + 2) * 8 + 3])
        #expect(relativeError(Resampling.upsampleBilinear2x(x), NaiveOps.bilinear(x, oh: 18, ow: 16)) < 1e-6)
        // Hand-computed: a 1x2 row [0, 4] upsamples to [0, 1, 3, 4].
        let row = Resampling.upsampleBilinear2x(Tensor(shape: [1, 1, 1, 2], scalars: [0, 4]))
        #expect(row.scalars == [0, 1, 3, 4, 0, 1, 3, 4])
    }
}
