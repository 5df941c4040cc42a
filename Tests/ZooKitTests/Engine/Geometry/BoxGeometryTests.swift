import Foundation
import Testing
import ZooKit

/// Anchors, box decoding and postprocessing against naive double-precision references.
@Suite("Anchors and box transforms")
struct BoxGeometryTests {
    @Test("Cell anchors follow generate_cell_anchors")
    func cellAnchors() {
        let sizes: [Double] = [32, 45.3, 64]
        let ratios: [Double] = [0.5, 1, 2, 3]
        let anchors = DefaultAnchorGenerator.generateCellAnchors(sizes: sizes, aspectRatios: ratios)
        #expect(anchors.count == sizes.count * ratios.count)
        var k = 0
        for s in sizes {
            for r in ratios {
                // Reference: w * h = s^2 and h / w = r, solved directly.
                let h = (s * s * r).squareRoot(), w = s * s / h
                let a = anchors[k]
                #expect(abs(Double(a.x1) - w / 2) <= 1e-5 * w && abs(Double(a.y1) - h / 2) <= 1e-5 * h)
                #expect(a.x0 == -a.x1 && a.y0 == -a.y1)
                k += 1
            }
        }
        // detectron2's float32 values for size 32, ratio 0.5 (sqrt(2048) / 2 = 22.627417).
        #expect(anchors[0] == Box(x0: Float(-(2048.0).squareRoot() / 2), y0: Float(-(512.0).squareRoot() / 2),
                                  x1: Float((2048.0).squareRoot() / 2), y1: Float((512.0).squareRoot() / 2)))
    }

    @Test("Grid anchors are ordered (y, x, anchor) and shifted by the stride", arguments: [0.0, 0.5])
    func gridAnchors(offset: Double) {
        let gen = DefaultAnchorGenerator(sizes: [[32], [64]], aspectRatios: [[0.5, 1, 2]], strides: [4, 8], offset: offset)
        #expect(gen.numCellAnchors == [3, 3])
        let h = 5, w = 7
        let anchors = gen.gridAnchors(level: 1, height: h, width: w)
        let cell = gen.cellAnchors(level: 1)
        #expect(anchors.count == h * w * 3)
        for y in 0..<h {
            for x in 0..<w {
                for a in 0..<3 {
                    let box = anchors[(y * w + x) * 3 + a]
                    let cx = Float((Double(x) + offset) * 8), cy = Float((Double(y) + offset) * 8)
                    #expect(box == Box(x0: cx + cell[a].x0, y0: cy + cell[a].y0, x1: cx + cell[a].x1, y1: cy + cell[a].y1))
                }
            }
        }
    }

    /// apply_deltas in double precision.
    static func naiveDecode(_ d: [Double], _ b: Box, weights: [Double], clamp: Double) -> [Double] {
        let w = Double(b.x1) - Double(b.x0), h = Double(b.y1) - Double(b.y0)
        let cx = Double(b.x0) + w / 2, cy = Double(b.y0) + h / 2
        let pcx = d[0] / weights[0] * w + cx, pcy = d[1] / weights[1] * h + cy
        let pw = exp(min(d[2] / weights[2], clamp)) * w, ph = exp(min(d[3] / weights[3], clamp)) * h
        return [pcx - pw / 2, pcy - ph / 2, pcx + pw / 2, pcy + ph / 2]
    }

    @Test("apply_deltas matches a double-precision reference", arguments: [[1.0, 1, 1, 1], [10.0, 10, 5, 5]])
    func applyDeltas(weights: [Double]) {
        var rng = SeededRandom(seed: 7)
        let t = Box2BoxTransform(weights: weights)
        let k = 3
        let boxes = (0..<50).map { _ -> Box in
            let x = Float.random(in: 0...500, using: &rng), y = Float.random(in: 0...500, using: &rng)
            return Box(x0: x, y0: y, x1: x + Float.random(in: 0.5...200, using: &rng), y1: y + Float.random(in: 0.5...200, using: &rng))
        }
        // Include values beyond the clamp.
        let deltas = (0..<(50 * 4 * k)).map { i in Float.random(in: -3...3, using: &rng) * (i % 17 == 0 ? 20 : 1) }
        let out = t.applyDeltas(deltas, boxes: boxes)
        #expect(out.count == 50 * k)
        for r in 0..<50 {
            for j in 0..<k {
                let o = (r * k + j) * 4
                let ref = Self.naiveDecode(deltas[o..<(o + 4)].map(Double.init), boxes[r], weights: weights, clamp: log(1000.0 / 16))
                let got = out[r * k + j]
                let scale = max(abs(ref[2] - ref[0]), abs(ref[3] - ref[1]), abs(ref[0]), abs(ref[1]), 1)
                for (g, e) in zip([got.x0, got.y0, got.x1, got.y1], ref) {
                    #expect(abs(Double(g) - e) <= 2e-6 * scale, "box \(r) class \(j): \(g) vs \(e)")
                }
            }
        }
    }

    @Test("dw, dh are clamped at log(1000 / 16)")
    func scaleClamp() {
        let t = Box2BoxTransform(weights: [1, 1, 1, 1])
        let b = t.apply(dx: 0, dy: 0, dw: 50, dh: -1, to: Box(x0: 0, y0: 0, x1: 16, y1: 16))
        #expect(abs(b.width - 1000) < 1e-3)
        #expect(abs(b.height - 16 * exp(-1)) < 1e-5)
    }

    @Test("detector_postprocess scales, clips and drops empty boxes")
    func postprocess() {
        let post = DetectorPostprocess(resizedHeight: 400, resizedWidth: 600, outputHeight: 427, outputWidth: 640)
        let boxes = [Box(x0: 10, y0: 20, x1: 300, y1: 399), Box(x0: 590, y0: 5, x1: 700, y1: 50),
                     Box(x0: 610, y0: 5, x1: 620, y1: 50)]
        let (out, kept) = post(boxes)
        #expect(kept == [0, 1])
        let sx = Float(640.0 / 600.0), sy = Float(427.0 / 400.0)
        #expect(out[0] == Box(x0: 10 * sx, y0: 20 * sy, x1: 300 * sx, y1: 399 * sy))
        #expect(out[1] == Box(x0: 590 * sx, y0: 5 * sy, x1: 640, y1: 50 * sy))
        let kps = post.scaledKeypoints([Keypoint(x: 3, y: 4, score: 0.5, logit: 2)])
        #expect(kps == [Keypoint(x: 3 * sx, y: 4 * sy, score: 0.5, logit: 2)])
    }
}
