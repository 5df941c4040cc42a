import Foundation
import Testing
import Synchronization
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

    /// Whether oneDNN runs these convs with Winograd here (AVX-512 CPUs).
    static let winogradAvailable: Bool = {
        let conv = Conv2d(weight: Tensor(shape: [16, 16, 3, 3]), bias: nil, padding: 1, algorithm: .winograd)
        return (try? conv.winogradWeightsDesc(forBlocked: [100, 16, 14, 14])) != nil
    }()

    /// Whether each conv of `convs` reads, at `rows` rows, the layout it reads at `reference` rows.
    static func sameLayouts(_ convs: [Conv2d], rows: Int, as reference: Int) throws -> Bool {
        try convs.allSatisfy { conv in
            DNNL.equal(try conv.winogradWeightsDesc(forBlocked: [rows, 256, 14, 14]),
                       try conv.winogradWeightsDesc(forBlocked: [reference, 256, 14, 14]))
        }
    }

    @Test("Batches read the weights layouts of 100 rows (or of 2, when small), with the 100-row batch's values",
          .enabled(if: winogradAvailable, "oneDNN has no Winograd convolution for this CPU"))
    func paddedToTheLayoutsOfTheLargestBatch() throws {
        let dir = WinogradWeightCacheTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cache = WinogradWeightCache(directory: dir)
        let convs = Self.tower(cache, seed: 41)
        var rng = SeededRandom(seed: 42)
        let x = NaiveOps.relu(rng.tensor([100, 256, 14, 14]))
        let full = try ConvTower.forward(convs, x, name: "test", layoutRows: 100)
        #expect(cache.writes == convs.count)

        // On the AMD EPYC here oneDNN picks other layouts than at 100 rows at 21 and 43 rows for
        // these convs. Each batch of 16 rows or more runs at the smallest size within 16 rows
        // that has the 100-row layouts (as it is when none has; this test's own scan).
        var ownLayouts = 0
        for n in [43, 21, 61, 47, 53] {
            let want = try (n...(n + ConvTower.maxPaddingRows)).first { try Self.sameLayouts(convs, rows: $0, as: 100) } ?? n
            let m = try ConvTower.rows(for: n, convs, shape: [n, 256, 14, 14], layoutRows: 100)
            #expect(m == want, "\(n) rows")
            let got = try ConvTower.forward(convs, Self.rows(x, n), name: "test", layoutRows: 100)
            #expect(got.shape == [n, 256, 14, 14])
            if try Self.sameLayouts(convs, rows: m, as: 100) {
                // Rows do not mix: the same layouts give the 100-row batch's values, bit for bit.
                // (A Bool: a failed comparison of two arrays this long would be diffed for minutes.)
                let equal = got.scalars == Self.rows(full, n).scalars
                #expect(equal, "\(n) rows run as \(m): relative error \(relativeError(got, Self.rows(full, n)))")
            } else {
                ownLayouts += 1
            }
        }
        // Only a batch left in layouts of its own may have added files.
        #expect(cache.writes <= convs.count * (1 + ownLayouts))

        // Small batches may also use the 2-row layouts: the values are the convolution's.
        let direct = Self.tower(nil, seed: 41, algorithm: .direct)
        for n in [1, 5, 11, 2] {
            let got = try ConvTower.forward(convs, Self.rows(x, n), name: "test", layoutRows: 100)
            #expect(got.shape == [n, 256, 14, 14])
            #expect(relativeError(got, try ConvTower.forward(direct, Self.rows(x, n), name: "test")) < 1e-4, "\(n) rows")
        }
        cache.waitForPendingWrites()
    }

    @Test("Convs making their Winograd weights at each run give the kept weights' values bit for bit, and keep none",
          .enabled(if: winogradAvailable, "oneDNN has no Winograd convolution for this CPU"))
    func weightsMadeAtEachRun() throws {
        let keptDir = WinogradWeightCacheTests.temporaryFolder(), perRunDir = WinogradWeightCacheTests.temporaryFolder()
        defer {
            try? FileManager.default.removeItem(at: keptDir)
            try? FileManager.default.removeItem(at: perRunDir)
        }
        let keptCache = WinogradWeightCache(directory: keptDir), perRunCache = WinogradWeightCache(directory: perRunDir)
        let kept = Self.tower(keptCache, seed: 45)
        let perRun = Self.tower(perRunCache, seed: 45)
        for conv in perRun { conv.winogradWeightsPerRun = true }
        // One row, unpadded, reads F(2x2, 3x3) weights here; 100 rows F(4x4, 3x3).
        let alpha = try perRun[0].winogradWeightsDesc(forBlocked: [1, 256, 14, 14])
            .flatMap { WinogradWeightTransform.Layout($0, weightShape: perRun[0].weight.shape)?.alpha }
        #expect(alpha == 4)
        var rng = SeededRandom(seed: 46)
        for (n, layoutRows) in [(100, 100), (1, nil), (37, 100)] as [(Int, Int?)] {
            let x = NaiveOps.relu(rng.tensor([n, 256, 14, 14]))
            let want = try ConvTower.forward(kept, x, name: "test", layoutRows: layoutRows)
            let got = try ConvTower.forward(perRun, x, name: "test", layoutRows: layoutRows)
            let equal = got.shape == want.shape && got.scalars == want.scalars
            #expect(equal, "\(n) rows: relative error \(relativeError(got, want))")
        }
        // Two threads at once: one reads the kept scratch buffer, the other a buffer of its own.
        let x = NaiveOps.relu(rng.tensor([100, 256, 14, 14]))
        let want = try ConvTower.forward(kept, x, name: "test", layoutRows: 100)
        let results = Mutex<[Bool]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            let got = try? ConvTower.forward(perRun, x, name: "test", layoutRows: 100)
            let equal = got?.scalars == want.scalars
            results.withLock { $0.append(equal) }
        }
        #expect(results.withLock { $0 } == [true, true])
        keptCache.waitForPendingWrites()
        perRunCache.waitForPendingWrites()
        #expect(keptCache.writes >= kept.count && kept.allSatisfy { $0.heldWeightBytes > 0 })
        #expect(perRunCache.writes == 0 && perRunCache.hits == 0, "weights made at each run must not go to the cache")
        #expect(perRun.allSatisfy { $0.heldWeightBytes == 0 }, "weights made at each run must not be held")

        // Switched on after a run, a conv drops the weights it kept; switched off, it keeps them again.
        let switched = Self.tower(nil, seed: 45)
        let before = try ConvTower.forward(switched, x, name: "test", layoutRows: 100)
        #expect(switched.allSatisfy { $0.heldWeightBytes > 0 })
        for conv in switched { conv.winogradWeightsPerRun = true }
        #expect(switched.allSatisfy { $0.heldWeightBytes == 0 })
        let after = try ConvTower.forward(switched, x, name: "test", layoutRows: 100)
        let same = after.scalars == before.scalars
        #expect(same && switched.allSatisfy { $0.heldWeightBytes == 0 })
        for conv in switched { conv.winogradWeightsPerRun = false }
        _ = try ConvTower.forward(switched, x, name: "test", layoutRows: 100)
        #expect(switched.allSatisfy { $0.heldWeightBytes > 0 })
    }

    @Test("The Winograd scratch lends its kept buffer to one taker at a time, grown to the largest size asked")
    func scratchLending() {
        let scratch = WinogradWeightScratch()
        let first = scratch.take(1 << 16)
        let second = scratch.take(1 << 10)
        #expect(first != second, "a lent buffer must not be lent twice")
        // Growing is put off while the buffer is lent.
        scratch.reserve(1 << 20)
        #expect(scratch.keptBytes == 1 << 16)
        scratch.give(second)
        scratch.give(first)
        #expect(scratch.take(1 << 12) == first)
        scratch.give(first)
        scratch.reserve(1 << 20)
        #expect(scratch.keptBytes == 1 << 20)
        let grown = scratch.take(1 << 20)
        grown.storeBytes(of: 1, toByteOffset: (1 << 20) - 1, as: UInt8.self)
        // A buffer of its own, given back after the kept one grew, is freed, not kept.
        let other = scratch.take(1 << 10)
        scratch.give(grown)
        scratch.give(other)
        #expect(scratch.keptBytes == 1 << 20)
        #expect(scratch.take(1 << 20) == grown)
        scratch.give(grown)
    }

    @Test("Towers without layoutRows, and direct towers, run each batch at its own size with the convolution's values")
    func unpadded() throws {
        var rng = SeededRandom(seed: 43)
        let direct = [Conv2d(weight: rng.tensor([32, 32, 3, 3], scale: 0.1), bias: nil, padding: 1, algorithm: .direct)]
        let x = NaiveOps.relu(rng.tensor([3, 32, 5, 5]))
        let want = NaiveOps.conv2d(x, direct[0].weight, direct[0].bias, stride: 1, padding: 1)
        #expect(relativeError(try ConvTower.forward(direct, x, name: "test", layoutRows: 100), want) < 1e-5)
        let dir = WinogradWeightCacheTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let winograd = Self.tower(WinogradWeightCache(directory: dir), seed: 44)
        let reference = Self.tower(nil, seed: 44, algorithm: .direct)
        let y = NaiveOps.relu(rng.tensor([43, 256, 14, 14]))
        let got = try ConvTower.forward(winograd, y, name: "test")
        #expect(got.shape == [43, 256, 14, 14])
        #expect(relativeError(got, try ConvTower.forward(reference, y, name: "test")) < 1e-4)
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
