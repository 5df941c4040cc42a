import Foundation
import Testing
@testable import ZooKit

/// ROIAlign and ROIPooler against a direct, unoptimised reading of torchvision's roi_align.
@Suite("ROIAlign and ROIPooler")
struct ROIAlignTests {
    /// torchvision's `bilinear_interpolate` for one point, in double precision.
    static func bilinear(_ map: [Float], _ h: Int, _ w: Int, _ y0: Double, _ x0: Double) -> Double {
        if y0 < -1 || y0 > Double(h) || x0 < -1 || x0 > Double(w) { return 0 }
        let y = max(y0, 0), x = max(x0, 0)
        let yl = min(Int(y), h - 1), xl = min(Int(x), w - 1)
        let yh = min(yl + 1, h - 1), xh = min(xl + 1, w - 1)
        let ly = Int(y) >= h - 1 ? 0 : y - Double(yl), lx = Int(x) >= w - 1 ? 0 : x - Double(xl)
        func v(_ yy: Int, _ xx: Int) -> Double { Double(map[yy * w + xx]) }
        return (1 - ly) * (1 - lx) * v(yl, xl) + (1 - ly) * lx * v(yl, xh) + ly * (1 - lx) * v(yh, xl) + ly * lx * v(yh, xh)
    }

    /// One pooled value: the mean of the bin's sample grid.
    static func naivePool(_ features: Tensor, box: Box, channel: Int, ph: Int, pw: Int, p: Int,
                          scale: Double, ratio: Int, aligned: Bool) -> Double {
        let h = features.shape[2], w = features.shape[3]
        let map = Array(features.scalars[(channel * h * w)..<((channel + 1) * h * w)])
        let off = aligned ? 0.5 : 0
        let sx = Double(box.x0) * scale - off, sy = Double(box.y0) * scale - off
        var rw = Double(box.x1) * scale - off - sx, rh = Double(box.y1) * scale - off - sy
        if !aligned { rw = max(rw, 1); rh = max(rh, 1) }
        let gh = ratio > 0 ? ratio : Int(ceil(rh / Double(p))), gw = ratio > 0 ? ratio : Int(ceil(rw / Double(p)))
        var sum = 0.0
        for iy in 0..<gh {
            for ix in 0..<gw {
                let y = sy + (Double(ph) + (Double(iy) + 0.5) / Double(gh)) * rh / Double(p)
                let x = sx + (Double(pw) + (Double(ix) + 0.5) / Double(gw)) * rw / Double(p)
                sum += bilinear(map, h, w, y, x)
            }
        }
        return sum / Double(max(gh * gw, 1))
    }

    static func randomFeatures(_ c: Int, _ h: Int, _ w: Int, using rng: inout SeededRandom) -> Tensor {
        Tensor(shape: [1, c, h, w], scalars: (0..<(c * h * w)).map { _ in Float.random(in: -2...2, using: &rng) })
    }

    @Test("ROIAlign equals the reference", arguments: [(false, 2), (true, 0), (false, 0), (true, 2)])
    func roiAlign(aligned: Bool, ratio: Int) {
        var rng = SeededRandom(seed: aligned ? 3 : 4)
        let c = 24, h = 19, w = 23, p = 7
        let features = Self.randomFeatures(c, h, w, using: &rng)
        // Boxes in input pixels at stride 8: inside, crossing the border, tiny (< 1 feature pixel), huge.
        var boxes: [Box] = (0..<12).map { _ in
            let x = Float.random(in: -20...170, using: &rng), y = Float.random(in: -20...140, using: &rng)
            return Box(x0: x, y0: y, x1: x + Float.random(in: 1...120, using: &rng), y1: y + Float.random(in: 1...120, using: &rng))
        }
        boxes.append(Box(x0: 50, y0: 60, x1: 52.5, y1: 61))
        boxes.append(Box(x0: -30, y0: -40, x1: 260, y1: 220))
        let pool = ROIAlign(outputSize: p, spatialScale: 1.0 / 8, samplingRatio: ratio, aligned: aligned)
        let out = pool(features, boxes: boxes)
        #expect(out.shape == [boxes.count, c, p, p])
        var worst = 0.0
        for (r, box) in boxes.enumerated() {
            for ch in 0..<c {
                for ph in 0..<p {
                    for pw in 0..<p {
                        let ref = Self.naivePool(features, box: box, channel: ch, ph: ph, pw: pw, p: p, scale: 1.0 / 8, ratio: ratio, aligned: aligned)
                        let got = Double(out.scalars[((r * c + ch) * p + ph) * p + pw])
                        worst = max(worst, abs(got - ref))
                    }
                }
            }
        }
        #expect(worst <= 1e-5, "ROIAlign differs from the reference by \(worst)")
        // Channels-last (used from 8 RoIs on) and planar layouts do the same arithmetic.
        #expect(boxes.count >= 8)
        let planar = pool.forward(features, boxes: boxes, batchIndices: nil, channelsLast: false)
        #expect(planar.scalars == out.scalars)
    }

    @Test("Batch indices select the image")
    func batchIndices() {
        var rng = SeededRandom(seed: 8)
        let a = Self.randomFeatures(3, 9, 9, using: &rng), b = Self.randomFeatures(3, 9, 9, using: &rng)
        let both = Tensor(shape: [2, 3, 9, 9], scalars: a.scalars + b.scalars)
        let boxes = (0..<9).map { Box(x0: Float($0), y0: 1, x1: Float($0) + 20, y1: 30) }
        let pool = ROIAlign(outputSize: 3, spatialScale: 0.25, samplingRatio: 2, aligned: true)
        let mixed = pool(both, boxes: boxes, batchIndices: (0..<9).map { $0 % 2 })
        let fromA = pool(a, boxes: boxes), fromB = pool(b, boxes: boxes)
        let slice = 3 * 9
        for r in 0..<9 {
            let want = r % 2 == 0 ? fromA : fromB
            #expect(Array(mixed.scalars[(r * slice)..<((r + 1) * slice)]) == Array(want.scalars[(r * slice)..<((r + 1) * slice)]))
        }
    }

    @Test("aligned shifts the sampling grid by half a pixel")
    func alignedDiffers() {
        var rng = SeededRandom(seed: 11)
        let features = Self.randomFeatures(2, 8, 8, using: &rng)
        let box = [Box(x0: 4, y0: 4, x1: 20, y1: 24)]
        let a = ROIAlign(outputSize: 2, spatialScale: 0.25, samplingRatio: 2, aligned: false)(features, boxes: box)
        let b = ROIAlign(outputSize: 2, spatialScale: 0.25, samplingRatio: 2, aligned: true)(features, boxes: box)
        #expect(a.scalars != b.scalars)
    }

    @Test("assign_boxes_to_levels follows floor(4 + log2(sqrt(area) / 224)) clamped")
    func levels() {
        let sides: [Float] = [10, 111.9, 112.1, 223.9, 224.1, 447.9, 448.1, 2000]
        let boxes = sides.map { Box(x0: 0, y0: 0, x1: $0, y1: $0) }
        let levels = ROIPooler.assignBoxesToLevels(boxes, minLevel: 2, maxLevel: 5, canonicalBoxSize: 224, canonicalLevel: 4)
        let expected = sides.map { side -> Int in
            Int(min(max(floor(4 + log2(Double(side) / 224 + 1e-8)), 2), 5)) - 2
        }
        #expect(levels == expected)
        #expect(levels == [0, 0, 1, 1, 2, 2, 3, 3])
    }

    @Test("ROIPooler pools each box from its level")
    func pooler() {
        var rng = SeededRandom(seed: 5)
        let features = [(40, 48), (20, 24), (10, 12), (5, 6)].map { Self.randomFeatures(8, $0.0, $0.1, using: &rng) }
        let pooler = ROIPooler(outputSize: 7, scales: [1.0 / 4, 1.0 / 8, 1.0 / 16, 1.0 / 32], samplingRatio: 0, aligned: true)
        #expect(pooler.minLevel == 2 && pooler.maxLevel == 5)
        let boxes = [Box(x0: 3, y0: 4, x1: 30, y1: 40), Box(x0: 0, y0: 0, x1: 180, y1: 150),
                     Box(x0: 10, y0: 20, x1: 90, y1: 100), Box(x0: 5, y0: 5, x1: 190, y1: 160)]
        let out = pooler(features, boxes: boxes)
        let levels = pooler.assignLevels(boxes)
        #expect(Set(levels).count > 1)
        for (r, box) in boxes.enumerated() {
            let single = pooler.levelPoolers[levels[r]](features[levels[r]], boxes: [box])
            #expect(Array(out.scalars[(r * 8 * 49)..<((r + 1) * 8 * 49)]) == single.scalars)
        }
    }

    @Test("ROIPooler on nChw16c levels and on channels-last copies equals the planar pooler exactly", arguments: [8, 20, 32])
    func blockedAndChannelsLastPoolers(channels: Int) throws {
        var rng = SeededRandom(seed: 6)
        let features = [(40, 48), (20, 24), (10, 12), (5, 6)].map { Self.randomFeatures(channels, $0.0, $0.1, using: &rng) }
        let pooler = ROIPooler(outputSize: 7, scales: [1.0 / 4, 1.0 / 8, 1.0 / 16, 1.0 / 32], samplingRatio: 0, aligned: true)
        let boxes = [Box(x0: 3, y0: 4, x1: 30, y1: 40), Box(x0: 0, y0: 0, x1: 180, y1: 150), Box(x0: 7, y0: 7, x1: 7, y1: 7),
                     Box(x0: 10, y0: 20, x1: 90, y1: 100), Box(x0: 5, y0: 5, x1: 190, y1: 160), Box(x0: -20, y0: 150, x1: 60, y1: 300)]
        let want = pooler(features, boxes: boxes)
        let blocked = try features.map { try DNNLTensor(plain: $0, context: "test").blocked(context: "test") }
        #expect(blocked.allSatisfy { $0.isBlocked })
        var storage: [Float] = []
        let fromBlocked = try pooler(blockedFeatures: blocked, boxes: boxes, reusing: &storage)
        #expect(fromBlocked.scalars == want.scalars)
        // Memory nothing else holds, filled with NaN, handed back: shrunk (6 -> 2 slices), as is
        // (6), grown within its capacity (3 of 6 -> 4) and grown beyond it (3 -> 5); every value
        // must be written over, equal to pooling afresh.
        let slice = channels * 49
        for (count, held, capacity) in [(2, 6, 6), (6, 6, 6), (4, 3, 6), (5, 3, 3)] {
            storage = [Float](repeating: .nan, count: capacity * slice)
            storage.removeLast((capacity - held) * slice)
            let again = try pooler(blockedFeatures: blocked, boxes: Array(boxes.prefix(count)), reusing: &storage)
            #expect(storage.isEmpty)
            #expect(again.shape == [count, channels, 7, 7])
            #expect(again.scalars == Array(want.scalars.prefix(count * slice)), "\(count) boxes into \(held) of \(capacity) slices")
        }
        let channelsLast = features.map { ROIAlign.channelsLast($0) }
        #expect(pooler(channelsLastFeatures: channelsLast, boxes: boxes).scalars == want.scalars)
    }
}
