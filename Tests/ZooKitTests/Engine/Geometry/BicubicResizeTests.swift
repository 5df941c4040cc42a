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
        let ref = MaskKeypointTests.naiveBicubic(map, s, outH: outH, outW: outW)
        let worst = zip(out, ref).map { abs(Double($0) - $1) }.max() ?? 0
        #expect(worst <= 1e-4, "bicubic resize differs by up to \(worst)")
        if outH == s && outW == s {
            // Same size: PyTorch's weights are (0, 1, 0, 0), an exact copy.
            #expect(out == map)
        }
    }
}
