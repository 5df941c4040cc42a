import Foundation
import Testing
@testable import ZooKit

/// The bicubic resize inside `heatmapsToKeypoints`, over whole maps (the keypoint tests only look
/// at the argmax).
@Suite("Bicubic resize")
struct BicubicResizeTests {
    @Test("bicubicResize equals PyTorch's formula on whole maps",
          arguments: [(56, 56), (64, 93), (30, 17), (1, 1), (120, 57)])
    func wholeMap(outH: Int, outW: Int) {
        var rng = SeededRandom(seed: UInt64(outH * 1000 + outW))
        let s = 56
        let map = (0..<(s * s)).map { _ in Float.random(in: -3...3, using: &rng) }
        let out = Self.resize(map, s, outH: outH, outW: outW)
        let ref = MaskKeypointTests.naiveBicubic(map, s, outH: outH, outW: outW)
        let worst = zip(out, ref).map { abs(Double($0) - $1) }.max() ?? 0
        #expect(worst <= 1e-4, "bicubic resize differs by up to \(worst)")
        if outH == s && outW == s {
            // Same size: PyTorch's weights are (0, 1, 0, 0), an exact copy.
            #expect(out == map)
        }
    }

    /// `bicubicResize` of an `s x s` map.
    static func resize(_ map: [Float], _ s: Int, outH: Int, outW: Int) -> [Float] {
        var out = [Float](repeating: 0, count: outH * outW)
        var scratch = [Float](repeating: 0, count: s * outW)
        map.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { o in
                scratch.withUnsafeMutableBufferPointer { t in
                    bicubicResize(input, width: s, xTaps: BicubicTaps(inputSize: s, outputSize: outW),
                                  yTaps: BicubicTaps(inputSize: s, outputSize: outH), scratch: t, into: o)
                }
            }
        }
        return out
    }

    /// `bicubicResize` then the first maximum in row-major order: what `bicubicArgmax` must equal.
    static func resizeThenScan(_ map: [Float], _ s: Int, outH: Int, outW: Int) -> (index: Int, value: Float) {
        let out = resize(map, s, outH: outH, outW: outW)
        var best = (index: 0, value: out[0])
        for i in 1..<out.count where out[i] > best.value { best = (i, out[i]) }
        return best
    }

    static func argmax(_ map: [Float], _ s: Int, outH: Int, outW: Int) -> (index: Int, value: Float)? {
        var scratch = [Float](repeating: 0, count: s * outW)
        return map.withUnsafeBufferPointer { input in
            scratch.withUnsafeMutableBufferPointer { t in
                bicubicArgmax(input, width: s, xTaps: BicubicTaps(inputSize: s, outputSize: outW),
                              yTaps: BicubicTaps(inputSize: s, outputSize: outH), scratch: t)
            }
        }
    }

    @Test("bicubicArgmax equals resizing the whole map and scanning it",
          arguments: [(56, 56), (64, 93), (30, 17), (1, 1), (1, 40), (311, 245)])
    func prunedArgmax(outH: Int, outW: Int) throws {
        var rng = SeededRandom(seed: UInt64(outH * 7919 + outW))
        let s = 56
        // Heatmap-like maps (one peak over noise, peaks near and at the border), plain noise,
        // a constant map and a plateau (ties everywhere: the first index must win), and values on
        // a coarse grid (many equal products).
        var maps: [[Float]] = []
        for (cy, cx) in [(20.3, 31.7), (0.0, 55.0), (55.0, 0.0), (40.5, 40.5)] {
            maps.append((0..<(s * s)).map { i in
                let dy = Double(i / s) - cy, dx = Double(i % s) - cx
                return Float(8 * exp(-(dy * dy + dx * dx) / 18) - 2) + Float.random(in: -0.5...0.5, using: &rng)
            })
        }
        maps.append((0..<(s * s)).map { _ in Float.random(in: -3...3, using: &rng) })
        maps.append([Float](repeating: 1.5, count: s * s))
        maps.append((0..<(s * s)).map { i in (i / s) >= 10 && (i / s) < 30 ? 4 : Float.random(in: -1...1, using: &rng) })
        maps.append((0..<(s * s)).map { _ in Float(Int.random(in: -2...2, using: &rng)) / 4 })
        for (m, map) in maps.enumerated() {
            let got = try #require(Self.argmax(map, s, outH: outH, outW: outW))
            let want = Self.resizeThenScan(map, s, outH: outH, outW: outW)
            #expect(got.index == want.index && got.value == want.value, "map \(m): \(got) vs \(want)")
        }
        // A non-finite value where every output size reads (the centre): no bound, nil.
        var bad = maps[0]
        bad[28 * s + 28] = .nan
        #expect(Self.argmax(bad, s, outH: outH, outW: outW) == nil)
        bad[28 * s + 28] = .infinity
        #expect(Self.argmax(bad, s, outH: outH, outW: outW) == nil)
    }
}
