import Foundation
import Testing
@testable import ZooKit

/// zoo's own transforms into oneDNN's Winograd weight layouts against oneDNN's reorder.
@Suite("Winograd weight transform")
struct WinogradWeightTransformTests {
    /// (in channels, out channels, batch, tile size oneDNN picks on AVX-512 for 14x14 inputs:
    /// 4 for `jit_wino_2x3`, 6 for `jit_wino_4x3`).
    @Test("Equals oneDNN's reorder into the jit_wino_2x3 and jit_wino_4x3 layouts", arguments: [
        (256, 256, 1, 4), (256, 512, 1, 4), (512, 512, 2, 6), (256, 256, 8, 6),
    ])
    func equalsOneDNN(shape: (Int, Int, Int, Int)) throws {
        let (cin, cout, n, alpha) = shape
        var rng = SeededRandom(seed: UInt64(cin + cout))
        let wt = rng.tensor([cout, cin, 3, 3], scale: 0.03), b = rng.tensor([cout])
        let conv = Conv2d(weight: wt, bias: b, padding: 1, algorithm: .winograd)
        let x = NaiveOps.relu(rng.tensor([n, cin, 14, 14]))
        let input = try BlockedLayoutTests.blocked(x)
        let both = try #require(try conv.winogradWeightsBothWays(for: input), "no Winograd layout zoo transforms for this conv")
        #expect(both.alpha == alpha)
        #expect(both.transform.count == both.alpha * both.alpha * cin * cout)
        #expect(both.reorder.count == both.transform.count)
        // Same products summed in the same order: bit-equal.
        var worst: Float = 0, largest: Float = 0
        for (a, r) in zip(both.transform, both.reorder) {
            worst = max(worst, abs(a - r))
            largest = max(largest, abs(r))
        }
        #expect(largest > 0)
        #expect(worst == 0, "largest difference \(worst) of \(largest): not bit-equal")
        // And the conv that reads them still computes the convolution.
        let y = try conv.forward(input).tensor(context: "test")
        #expect(relativeError(y, NaiveOps.conv2d(x, wt, b, stride: 1, padding: 1)) < 1e-4)
    }

    @Test("With a FrozenBN scale, the transform and oneDNN's reorder (given the folded weight) agree to the bit")
    func scaledEqualsOneDNN() throws {
        var rng = SeededRandom(seed: 77)
        let wt = rng.tensor([256, 256, 3, 3], scale: 0.03)
        let scale = (0..<256).map { Float($0 % 9 + 1) * 0.21 }
        let scaled = Conv2d(weight: wt, weightScale: scale, bias: nil, padding: 1, algorithm: .winograd)
        let unscaled = Conv2d(weight: wt, bias: nil, padding: 1, algorithm: .winograd)
        let input = try BlockedLayoutTests.blocked(NaiveOps.relu(rng.tensor([2, 256, 14, 14])))
        let both = try #require(try scaled.winogradWeightsBothWays(for: input))
        let plainBoth = try #require(try unscaled.winogradWeightsBothWays(for: input))
        #expect(both.transform == both.reorder)
        #expect(both.transform != plainBoth.transform, "the scale must change the transformed weights")
    }
}

/// The Winograd weight files as `zoo cache ls` and `zoo cache verify` see them.
@Suite("Winograd files in the model cache")
struct WinogradCacheInspectionTests {
    @Test("ls shows them as derived and leftovers as temporary; verify checks headers, --fix removes a truncated file")
    func listAndVerify() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-wino-cache-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: root) }
        let cache = ModelCache(root: root)
        var rng = SeededRandom(seed: 41)
        let conv = Conv2d(weight: rng.tensor([256, 256, 3, 3], scale: 0.03), bias: nil, padding: 1, algorithm: .winograd)
        let winograd = WinogradWeightCache(directory: cache.winogradDirectory)
        conv.winogradCache = winograd
        _ = try conv.forward(try BlockedLayoutTests.blocked(NaiveOps.relu(rng.tensor([1, 256, 16, 16]))))
        winograd.waitForPendingWrites()

        let rows = try CacheListing(cache: cache).rows()
        #expect(rows.count == 1)
        let row = try #require(rows.first)
        #expect(row.path.hasPrefix("winograd/") && row.path.hasSuffix(".wino"))
        #expect(row.state == "derived")
        let sound = try CacheVerifier(cache: cache).run(fix: false)
        #expect(sound.ok == 1 && sound.corrupt == 0 && sound.unverifiable == 0)

        // A temporary file left by a stopped process is listed as such and not verified.
        let leftover = "winograd/.\(row.path.dropFirst("winograd/".count)).4242.7.tmp"
        try Data(count: 8192).write(to: root.appendingPathComponent(leftover))
        let withLeftover = try CacheListing(cache: cache).rows()
        #expect(withLeftover.map(\.path) == [leftover, row.path])
        #expect(withLeftover.first?.state == "temporary" && withLeftover.first?.size == 8192)
        let skipping = try CacheVerifier(cache: cache).run(fix: false)
        #expect(skipping.ok == 1 && skipping.corrupt == 0 && skipping.unverifiable == 0)
        try FileManager.default.removeItem(at: root.appendingPathComponent(leftover))

        // A changed payload byte (header intact) is found by its hash (zoo run ignores and rewrites such a file).
        let file = root.appendingPathComponent(row.path)
        let flipper = try FileHandle(forUpdating: file)
        try flipper.seek(toOffset: UInt64(row.size / 2))
        let byte = try #require(try flipper.read(upToCount: 1)?.first)
        try flipper.seek(toOffset: UInt64(row.size / 2))
        try flipper.write(contentsOf: Data([byte ^ 0x01]))
        try flipper.close()
        #expect(WinogradWeightCache.headerProblem(of: file) == nil)
        #expect(WinogradWeightCache.problem(of: file)?.contains("payload") == true)
        let flipped = try CacheVerifier(cache: cache).run(fix: false)
        #expect(flipped.corrupt == 1 && flipped.ok == 0)

        let handle = try FileHandle(forWritingTo: file)
        try handle.truncate(atOffset: UInt64(row.size - 4096))
        try handle.close()
        #expect(WinogradWeightCache.headerProblem(of: file)?.contains("truncated") == true)
        let damaged = try CacheVerifier(cache: cache).run(fix: false)
        #expect(damaged.corrupt == 1 && damaged.ok == 0)
        #expect(FileManager.default.fileExists(atPath: file.path))
        let fixed = try CacheVerifier(cache: cache).run(fix: true)
        #expect(fixed.corrupt == 1)
        #expect(!FileManager.default.fileExists(atPath: file.path))
    }
}
