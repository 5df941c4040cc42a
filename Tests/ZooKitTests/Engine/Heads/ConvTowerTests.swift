import Foundation
import Testing
import CZooDNNL
@testable import ZooKit

/// The heads' convolution towers: batches padded to the Winograd weights layouts of the largest
/// batch (or of the smallest, for small ones), and row views of oneDNN memory.
@Suite("Conv towers over batches of changing size")
struct ConvTowerTests {
    /// Two 256-channel 3x3 convs with ReLU on 14x14, as the mask head's, their Winograd weights in `cache`.
    static func tower(_ cache: WinogradWeightCache?, seed: UInt64, algorithm: ConvolutionAlgorithm = .winograd) -> [Conv2d] {
        var rng = SeededRandom(seed: seed)
        return (0..<2).map { i in
            let conv = Conv2d(weight: rng.tensor([256, 256, 3, 3], scale: 0.03), bias: rng.tensor([256], scale: 0.1),
                              padding: 1, relu: true, algorithm: algorithm, name: "tower.conv\(i)")
            conv.winogradCache = cache
            return conv
        }
    }

    /// The first `n` rows of `t`.
    static func rows(_ t: Tensor, _ n: Int) -> Tensor {
        let row = t.count / t.shape[0]
        return Tensor(shape: [n] + t.shape.dropFirst(), scalars: Array(t.scalars[0..<(n * row)]))
    }

    @Test("Batches of any size read the weights layouts of 100 rows (or of 2, when small), with the 100-row batch's values")
    func paddedToTheLayoutsOfTheLargestBatch() throws {
        let dir = WinogradWeightCacheTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cache = WinogradWeightCache(directory: dir)
        let convs = Self.tower(cache, seed: 41)
        var rng = SeededRandom(seed: 42)
        let x = NaiveOps.relu(rng.tensor([100, 256, 14, 14]))
        let full = try ConvTower.forward(convs, x, name: "test", layoutRows: 100)
        let winogradConvs = try convs.filter { try $0.winogradWeightsDesc(forBlocked: [100, 256, 14, 14]) != nil }.count
        #expect(cache.writes == winogradConvs)

        // On an AVX-512 machine oneDNN picks another layout at 43, 47, 53 and 61 rows than at
        // 100 for these convs; the tower runs them at a size with the 100-row layouts instead.
        for n in [43, 21, 61, 47, 53] {
            let m = try ConvTower.rows(for: n, convs, shape: [n, 256, 14, 14], layoutRows: 100)
            #expect((n...(n + ConvTower.maxPaddingRows)).contains(m))
            for conv in convs {
                let got = try conv.winogradWeightsDesc(forBlocked: [m, 256, 14, 14])
                let want = try conv.winogradWeightsDesc(forBlocked: [100, 256, 14, 14])
                #expect(got.map { a in want.map { DNNL.equal(a, $0) } ?? false } ?? (want == nil), "\(n) rows run as \(m)")
            }
            // Rows do not mix: the same layouts give the 100-row batch's values, bit for bit.
            let got = try ConvTower.forward(convs, Self.rows(x, n), name: "test", layoutRows: 100)
            #expect(got.shape == [n, 256, 14, 14])
            // (A Bool: a failed comparison of two arrays this long would be diffed for minutes.)
            let equal = got.scalars == Self.rows(full, n).scalars
            #expect(equal, "\(n) rows run as \(m): relative error \(relativeError(got, Self.rows(full, n)))")
        }
        // No batch of 16 rows or more made a second layout.
        #expect(cache.writes == winogradConvs)

        // Small batches may also use the 2-row layout: at most one more file per conv.
        let direct = Self.tower(nil, seed: 41, algorithm: .direct)
        for n in [1, 5, 11, 2] {
            let got = try ConvTower.forward(convs, Self.rows(x, n), name: "test", layoutRows: 100)
            #expect(got.shape == [n, 256, 14, 14])
            #expect(relativeError(got, try ConvTower.forward(direct, Self.rows(x, n), name: "test")) < 1e-5, "\(n) rows")
        }
        #expect(cache.writes <= 2 * winogradConvs)
        cache.waitForPendingWrites()
    }

    @Test("Without layoutRows, or without Winograd, a batch runs at its own size")
    func unpaddedWhenNotAsked() throws {
        var rng = SeededRandom(seed: 43)
        let direct = [Conv2d(weight: rng.tensor([32, 32, 3, 3], scale: 0.1), bias: nil, padding: 1, algorithm: .direct)]
        #expect(try ConvTower.rows(for: 43, direct, shape: [43, 32, 14, 14], layoutRows: 100) == 43)
        let dir = WinogradWeightCacheTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let convs = Self.tower(WinogradWeightCache(directory: dir), seed: 44)
        #expect(try ConvTower.rows(for: 100, convs, shape: [100, 256, 14, 14], layoutRows: 100) == 100)
        #expect(try ConvTower.rows(for: 0, convs, shape: [0, 256, 14, 14], layoutRows: 100) == 0)
        let x = NaiveOps.relu(rng.tensor([3, 32, 5, 5]))
        let want = NaiveOps.conv2d(x, direct[0].weight, direct[0].bias, stride: 1, padding: 1)
        #expect(relativeError(try ConvTower.forward(direct, x, name: "test", layoutRows: 100), want) < 1e-5)
    }

    @Test("A row view of blocked or plain memory holds the first rows; zero rows pad a plain copy", arguments: [20, 32])
    func firstRows(channels: Int) throws {
        var rng = SeededRandom(seed: 45)
        let x = rng.tensor([3, channels, 4, 5])
        let padded = try DNNLTensor(plain: x, rows: 5, context: "test")
        #expect(padded.shape == [5, channels, 4, 5])
        let plain = try padded.tensor(context: "test")
        #expect(Array(plain.scalars[0..<x.count]) == x.scalars)
        #expect(plain.scalars[x.count...].allSatisfy { $0 == 0 })
        for source in [padded, try padded.blocked(context: "test"), try padded.reordered(to: dnnl_nhwc, context: "test")] {
            let view = try source.firstRows(2, context: "test")
            #expect(view.shape == [2, channels, 4, 5])
            #expect(try view.tensor(context: "test").scalars == Self.rows(x, 2).scalars)
            let want = try DNNLTensor(plain: Self.rows(x, 2), context: "test").channelsLastTensor(context: "test")
            #expect(try view.channelsLastTensor(context: "test").scalars == want.scalars)
        }
    }
}
