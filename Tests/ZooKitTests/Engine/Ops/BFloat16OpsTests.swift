import Testing
@testable import ZooKit

/// The layers' bfloat16 paths against the naive float32 references: close (bfloat16 keeps 8 bits
/// of mantissa, so about 0.4 % per rounding), but not float32 in disguise.
@Suite("bfloat16 ops against float32 references", .enabled(if: ConvolutionPrecision.bfloat16.isAvailable, "this CPU has no AVX512-BF16"))
struct BFloat16OpsTests {
    /// Relative error of bfloat16 against float32: above float noise, within bfloat16's rounding.
    static func isBFloat16Close(_ error: Float) -> Bool { error > 1e-4 && error < 2e-2 }

    @Test("Conv2d in bfloat16, with the residual sum and ReLU, on a second shape too")
    func conv() throws {
        var rng = SeededRandom(seed: 11)
        let x = rng.tensor([1, 32, 10, 9]), wt = rng.tensor([48, 32, 1, 1], scale: 0.3), b = rng.tensor([48])
        let r = rng.tensor([1, 48, 10, 9])
        let conv = Conv2d(weight: wt, bias: b, relu: true, addsResidual: true, precision: .bfloat16)
        #expect(conv.computesInBFloat16)
        let got = try conv.forward(x, residual: r)
        let want = NaiveOps.relu(NaiveOps.add(NaiveOps.conv2d(x, wt, b, stride: 1, padding: 0), r))
        #expect(got.shape == want.shape)
        #expect(Self.isBFloat16Close(relativeError(got, want)), "\(relativeError(got, want))")
        #expect(got.scalars.contains(0))
        let x2 = rng.tensor([1, 32, 4, 6]), r2 = rng.tensor([1, 48, 4, 6])
        let got2 = try conv.forward(x2, residual: r2)
        let want2 = NaiveOps.relu(NaiveOps.add(NaiveOps.conv2d(x2, wt, b, stride: 1, padding: 0), r2))
        #expect(Self.isBFloat16Close(relativeError(got2, want2)), "\(relativeError(got2, want2))")
    }

    @Test("A FrozenBN scale is applied before the weights are rounded to bfloat16, as folding first would")
    func weightScale() throws {
        var rng = SeededRandom(seed: 12)
        let x = NaiveOps.relu(rng.tensor([1, 32, 10, 9])), wt = rng.tensor([48, 32, 1, 1], scale: 0.3), b = rng.tensor([48])
        let scale = (0..<48).map { Float($0 % 5 + 1) * 0.29 }
        let scaled = Conv2d(weight: wt, weightScale: scale, bias: b, relu: true, precision: .bfloat16)
        let folded = Conv2d(weight: scaled.foldedWeight, bias: b, relu: true, precision: .bfloat16)
        #expect(scaled.computesInBFloat16)
        #expect(try scaled.forward(x).scalars == folded.forward(x).scalars)
        let want = NaiveOps.conv2d(x, scaled.foldedWeight, b, stride: 1, padding: 0)
        #expect(Self.isBFloat16Close(relativeError(try scaled.forward(x), NaiveOps.relu(want))))
    }

    @Test("A bfloat16 output feeds the next bfloat16 conv without a float32 round trip")
    func chain() throws {
        var rng = SeededRandom(seed: 12)
        let x = rng.tensor([1, 16, 8, 8]), w1 = rng.tensor([32, 16, 1, 1], scale: 0.3), w2 = rng.tensor([16, 32, 3, 3], scale: 0.1)
        let a = Conv2d(weight: w1, bias: nil, relu: true, precision: .bfloat16)
        let b = Conv2d(weight: w2, bias: nil, padding: 1, algorithm: .direct, precision: .bfloat16)
        a.bfloat16Output = true
        let mid = try a.forward(DNNLTensor(plain: x, context: "test").blocked(context: "test"))
        #expect(DNNLTensor.isBlocked(mid.desc, shape: mid.shape, type: ConvolutionPrecision.bfloat16.dataType))
        let got = try b.forward(mid).tensor(context: "test")
        let want = NaiveOps.conv2d(NaiveOps.relu(NaiveOps.conv2d(x, w1, nil, stride: 1, padding: 0)), w2, nil, stride: 1, padding: 1)
        #expect(Self.isBFloat16Close(relativeError(got, want)), "\(relativeError(got, want))")
    }

    @Test("Winograd's layers stay float32 in bfloat16 precision")
    func winogradStaysFloat32() throws {
        var rng = SeededRandom(seed: 13)
        let conv = Conv2d(weight: rng.tensor([16, 16, 3, 3]), bias: nil, padding: 1, algorithm: .winograd, precision: .bfloat16)
        #expect(!conv.computesInBFloat16)
        let direct = Conv2d(weight: rng.tensor([16, 16, 3, 3]), bias: nil, padding: 1, algorithm: .direct, precision: .bfloat16)
        #expect(direct.computesInBFloat16)
        #expect(try direct.implementation(forBlocked: [1, 16, 8, 8]).contains("bf16"))
    }

    @Test("Linear in bfloat16: one inner product, ReLU fused, row counts cached apart")
    func linear() throws {
        var rng = SeededRandom(seed: 14)
        let w = rng.tensor([24, 40], scale: 0.3), b = rng.tensor([24])
        let bf16 = try Linear(weight: w, bias: b, relu: true, precision: .bfloat16)
        let f32 = try Linear(weight: w, bias: b, relu: true)
        for rows in [7, 3, 7] {
            let x = rng.tensor([rows, 40])
            let got = try bf16.forward(x), want = try f32.forward(x)
            #expect(got.shape == [rows, 24])
            #expect(Self.isBFloat16Close(relativeError(got, want)), "\(rows) rows: \(relativeError(got, want))")
            #expect(got.scalars.allSatisfy { $0 >= 0 } && got.scalars.contains(0))
        }
    }
}
