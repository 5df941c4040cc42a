import Foundation
import Testing
import CZooDNNL
@testable import ZooKit

/// Large single-image Winograd convolutions run in bands of rows (`Conv2d.forwardInBands`).
@Suite("Convolutions in bands of rows")
struct RowBandTests {
    @Test("Bands give the whole convolution's values within float noise, at uneven heights and at P2's shape", arguments: [
        [1, 32, 67, 40], [1, 32, 45, 33], [1, 256, 200, 272],
    ])
    func bandsEqualTheWholeImage(shape: [Int]) throws {
        try #require(ConvTowerTests.winogradAvailable, "oneDNN has no Winograd convolution for this CPU")
        var rng = SeededRandom(seed: UInt64(shape[1] + shape[2]))
        let c = shape[1]
        let conv = Conv2d(weight: rng.tensor([c, c, 3, 3], scale: 0.03), bias: rng.tensor([c], scale: 0.1), padding: 1,
                          relu: true, algorithm: .winograd, name: "bands")
        let input = try BlockedLayoutTests.blocked(NaiveOps.relu(rng.tensor(shape)))
        let whole = try conv.forwardWhole(input).tensor(context: "test")
        for bands in [4, 3] {
            let banded = try #require(try conv.forwardInBands(input, bands: bands), "a band's convolution wrote no nChw16c")
            let got = try banded.tensor(context: "test")
            #expect(got.shape == whole.shape)
            // Not bit for bit: oneDNN picks the Winograd blocking (the order of the sums) from the
            // problem's size. A wrong row at a band's edge would be far above float noise.
            var worst: Float = 0, largest: Float = 0
            for (a, b) in zip(got.scalars, whole.scalars) {
                worst = max(worst, abs(a - b))
                largest = max(largest, abs(b))
            }
            #expect(largest > 0 && worst <= 1e-5 * largest, "\(bands) bands of \(shape): largest difference \(worst) of \(largest)")
            #expect(relativeError(got, whole) < 1e-5, "\(bands) bands of \(shape)")
        }
        // And the whole convolution is the convolution.
        if c == 32 {
            let x = try input.tensor(context: "test")
            #expect(relativeError(whole, NaiveOps.relu(NaiveOps.conv2d(x, conv.weight, conv.bias, stride: 1, padding: 1))) < 1e-4)
        }
    }

    @Test("Only a single float32 image of 8M values or more, in a 3x3 Winograd conv without residual, runs in bands")
    func whichInputsRunInBands() throws {
        var rng = SeededRandom(seed: 5)
        let w = rng.tensor([256, 256, 3, 3], scale: 0.03)
        let conv = Conv2d(weight: w, bias: nil, padding: 1, algorithm: .winograd)
        func input(_ shape: [Int]) throws -> DNNLTensor { try DNNLTensor(blockedShape: shape, context: "test") }
        #expect(conv.rowBands(for: try input([1, 256, 200, 272])) == Conv2d.rowBandCount)
        #expect(conv.rowBands(for: try input([1, 256, 100, 136])) == nil, "P3 runs whole")
        #expect(conv.rowBands(for: try input([2, 256, 200, 272])) == nil, "two images run whole")
        let plain = try DNNLTensor(shape: [1, 256, 200, 272], desc: DNNL.desc([1, 256, 200, 272], dnnl_nchw, context: "test"),
                                   context: "test")
        #expect(conv.rowBands(for: plain) == nil, "plain input runs whole")
        let direct = Conv2d(weight: w, bias: nil, padding: 1, algorithm: .direct)
        #expect(direct.rowBands(for: try input([1, 256, 200, 272])) == nil, "direct convolutions run whole")
        let summing = Conv2d(weight: w, bias: nil, padding: 1, addsResidual: true, algorithm: .winograd)
        #expect(summing.rowBands(for: try input([1, 256, 200, 272])) == nil, "a residual sum runs whole")
        let strided = Conv2d(weight: w, bias: nil, stride: 2, padding: 1, algorithm: .winograd)
        #expect(strided.rowBands(for: try input([1, 256, 200, 272])) == nil)
    }
}
