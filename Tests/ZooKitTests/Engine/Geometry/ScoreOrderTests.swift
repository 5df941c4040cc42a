import Foundation
import Testing
@testable import ZooKit

/// `stableOrderDescending` and `topKIndices` against a comparator sort with torch's order.
@Suite("Score order and top-k")
struct ScoreOrderTests {
    /// torch's descending stable sort written as a comparator: NaN above every number, -0 == +0,
    /// ties by lower index.
    static func referenceOrder(_ s: [Float]) -> [Int] {
        s.indices.sorted { a, b in
            if s[a].isNaN || s[b].isNaN { return s[a].isNaN && (!s[b].isNaN || a < b) }
            return s[a] > s[b] || (s[a] == s[b] && a < b)
        }
    }

    /// Many ties (scores on a 1/16 grid), both zeros, infinities and a few NaNs.
    static func scores(_ n: Int, seed: UInt64) -> [Float] {
        var rng = SeededRandom(seed: seed)
        return (0..<n).map { _ in
            switch Int.random(in: 0..<100, using: &rng) {
            case 0: return .nan
            case 1: return -0.0
            case 2: return 0.0
            case 3: return .infinity
            case 4: return -.infinity
            default: return (Float.random(in: -8...8, using: &rng) * 16).rounded() / 16
            }
        }
    }

    @Test("ties keep index order, -0 equals +0, NaN comes first")
    func smallCase() {
        #expect(stableOrderDescending([1, 3, 3, -0.0, 0.0, .nan, -2]) == [5, 1, 2, 0, 3, 4, 6])
        #expect(topKIndices([1, 3, 3, -0.0, 0.0, .nan, -2], k: 3) == [5, 1, 2])
    }

    @Test("stableOrderDescending equals the comparator sort")
    func fullOrder() {
        let s = Self.scores(5000, seed: 7)
        #expect(stableOrderDescending(s) == Self.referenceOrder(s))
    }

    @Test("topKIndices is the comparator sort's first k", arguments: [0, 1, 7, 1000, 19_999, 20_000, 20_005])
    func topK(k: Int) {
        let s = Self.scores(20_000, seed: UInt64(k + 1))
        let got = topKIndices(s, k: k)
        #expect(got == Array(Self.referenceOrder(s).prefix(max(k, 0))))
        #expect(got.count == min(k, s.count))
    }

    @Test("topKIndices with every score equal keeps the lowest indices")
    func allEqual() {
        #expect(topKIndices([Float](repeating: 0.5, count: 3000), k: 10) == Array(0..<10))
    }

    /// The fallback (sort what is left once partitioning has taken too many rounds) from its
    /// first round on, and after a few rounds, when the unsorted range is still large.
    @Test("topKIndices' sorting fallback gives the same first k", arguments: [0, 1, 3])
    func sortingFallback(rounds: Int) {
        let s = Self.scores(20_000, seed: 99)
        for k in [1, 100, 1000, 12_345] {
            #expect(topKIndices(s, k: k, selectionRounds: rounds) == Array(Self.referenceOrder(s).prefix(k)))
        }
    }
}
