import Foundation
import Testing
import ZooKit

/// NMS, RPN proposal selection and box-head inference against naive references.
@Suite("NMS, proposals and box inference")
struct NMSTests {
    /// Greedy NMS written the textbook way: repeatedly take the best remaining box (lowest index
    /// on ties) and drop every remaining box overlapping it by IoU > threshold, in double precision.
    static func naiveNMS(_ boxes: [Box], _ scores: [Float], _ threshold: Double) -> [Int] {
        var remaining = Array(boxes.indices)
        var keep: [Int] = []
        while let best = remaining.min(by: { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }) {
            keep.append(best)
            remaining = remaining.filter { $0 != best && naiveIoU(boxes[$0], boxes[best]) <= threshold }
        }
        return keep
    }

    static func naiveIoU(_ a: Box, _ b: Box) -> Double {
        let iw = max(0, min(Double(a.x1), Double(b.x1)) - max(Double(a.x0), Double(b.x0)))
        let ih = max(0, min(Double(a.y1), Double(b.y1)) - max(Double(a.y0), Double(b.y0)))
        let inter = iw * ih
        let areaA = (Double(a.x1) - Double(a.x0)) * (Double(a.y1) - Double(a.y0))
        let areaB = (Double(b.x1) - Double(b.x0)) * (Double(b.y1) - Double(b.y0))
        return inter / (areaA + areaB - inter)
    }

    static func naiveBatchedNMS(_ boxes: [Box], _ scores: [Float], _ groups: [Int], _ threshold: Double) -> [Int] {
        var kept: [Int] = []
        for g in Set(groups) {
            let members = boxes.indices.filter { groups[$0] == g }
            kept += naiveNMS(members.map { boxes[$0] }, members.map { scores[$0] }, threshold).map { members[$0] }
        }
        return kept.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
    }

    /// Boxes on a 1/8-pixel grid, so the coordinate-offset trick of batched NMS stays exact.
    static func randomBoxes(_ n: Int, extent: Float, using rng: inout SeededRandom) -> [Box] {
        func q(_ v: Float) -> Float { (v * 8).rounded() / 8 }
        return (0..<n).map { _ in
            let x = q(Float.random(in: 0...extent, using: &rng)), y = q(Float.random(in: 0...extent, using: &rng))
            return Box(x0: x, y0: y, x1: x + q(Float.random(in: 1...80, using: &rng)), y1: y + q(Float.random(in: 1...80, using: &rng)))
        }
    }

    @Test("nms equals the greedy reference", arguments: [0.3, 0.5, 0.7])
    func nmsMatchesReference(threshold: Double) {
        var rng = SeededRandom(seed: UInt64(threshold * 1000))
        let boxes = Self.randomBoxes(400, extent: 200, using: &rng)
        // Some repeated scores check the tie order.
        let scores = (0..<400).map { _ in (Float.random(in: 0...1, using: &rng) * 64).rounded() / 64 }
        let kept = nms(boxes: boxes, scores: scores, iouThreshold: threshold)
        #expect(kept == Self.naiveNMS(boxes, scores, threshold))
        #expect(kept.count > 10 && kept.count < 400)
    }

    /// torchvision's CPU kernel transcribed one box pair at a time, in float32 with the float IoU
    /// compared as a double: what `nms` must equal bit for bit.
    static func scalarKernelNMS(_ boxes: [Box], _ scores: [Float], _ threshold: Double) -> [Int] {
        let order = boxes.indices.sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        var suppressed = [Bool](repeating: false, count: boxes.count)
        var keep: [Int] = []
        for (oi, i) in order.enumerated() where !suppressed[i] {
            keep.append(i)
            let a = boxes[i], areaA = (a.x1 - a.x0) * (a.y1 - a.y0)
            for j in order[(oi + 1)...] where !suppressed[j] {
                let b = boxes[j]
                let w = max(0, min(a.x1, b.x1) - max(a.x0, b.x0)), h = max(0, min(a.y1, b.y1) - max(a.y0, b.y0))
                let inter = w * h
                let ovr = inter / (areaA + (b.x1 - b.x0) * (b.y1 - b.y0) - inter)
                if Double(ovr) > threshold { suppressed[j] = true }
            }
        }
        return keep
    }

    @Test("nms equals torchvision's scalar float kernel on unrounded boxes, near-threshold IoUs included",
          arguments: [0.3, 0.5, 0.7, 0.6999999999])
    func nmsMatchesScalarKernel(threshold: Double) {
        var rng = SeededRandom(seed: 7)
        for n in [1, 15, 16, 17, 333, 1000] {
            var boxes = (0..<n).map { _ -> Box in
                let x = Float.random(in: 0...300, using: &rng), y = Float.random(in: 0...300, using: &rng)
                return Box(x0: x, y0: y, x1: x + Float.random(in: 0.5...90, using: &rng), y1: y + Float.random(in: 0.5...90, using: &rng))
            }
            // Pairs whose IoU is the threshold to within a float rounding.
            for k in stride(from: 0, to: n - 1, by: 7) {
                let b = boxes[k], width = b.x1 - b.x0
                boxes[k + 1] = Box(x0: b.x0 + width * (1 - Float(threshold)), y0: b.y0, x1: b.x1, y1: b.y1)
            }
            let scores = (0..<n).map { _ in (Float.random(in: 0...1, using: &rng) * 32).rounded() / 32 }
            let kept = nms(boxes: boxes, scores: scores, iouThreshold: threshold)
            #expect(kept == Self.scalarKernelNMS(boxes, scores, threshold), "n \(n)")
        }
    }

    @Test("IoU equal to the threshold does not suppress (strict >)")
    func nmsStrict() {
        let boxes = [Box(x0: 0, y0: 0, x1: 4, y1: 1), Box(x0: 1, y0: 0, x1: 4, y1: 1)]  // IoU 0.75 exactly
        #expect(nms(boxes: boxes, scores: [0.9, 0.8], iouThreshold: 0.75) == [0, 1])
        #expect(nms(boxes: boxes, scores: [0.8, 0.9], iouThreshold: 0.74) == [1])
        #expect(nms(boxes: [], scores: [], iouThreshold: 0.5) == [])
    }

    @Test("batchedNMS equals per-group NMS on both of torchvision's paths", arguments: [300, 1500])
    func batched(count: Int) {
        var rng = SeededRandom(seed: UInt64(count))
        let boxes = Self.randomBoxes(count, extent: 300, using: &rng)
        let scores = (0..<count).map { _ in Float.random(in: 0...1, using: &rng) }
        let groups = (0..<count).map { _ in Int.random(in: 0..<5, using: &rng) }
        let kept = batchedNMS(boxes: boxes, scores: scores, groups: groups, iouThreshold: 0.5)
        #expect(kept == Self.naiveBatchedNMS(boxes, scores, groups, 0.5))
        // Same boxes in different groups never suppress each other.
        let twin = batchedNMS(boxes: [boxes[0], boxes[0]], scores: [0.5, 0.4], groups: [0, 1], iouThreshold: 0.5)
        #expect(twin == [0, 1])
    }

    @Test("findTopRPNProposals equals a naive decode / top-k / clip / NMS pipeline")
    func proposals() {
        var rng = SeededRandom(seed: 42)
        let gen = DefaultAnchorGenerator(sizes: [[16], [32], [64]], aspectRatios: [[0.5, 1, 2]], strides: [4, 8, 16])
        let sizes = [(12, 10), (6, 5), (3, 3)]
        let imageH = 45, imageW = 38
        var logits: [Tensor] = [], deltas: [Tensor] = []
        for (h, w) in sizes {
            logits.append(Tensor(shape: [1, 3, h, w], scalars: (0..<(3 * h * w)).map { _ in Float.random(in: -5...5, using: &rng) }))
            deltas.append(Tensor(shape: [1, 12, h, w], scalars: (0..<(12 * h * w)).map { _ in Float.random(in: -0.6...0.6, using: &rng) }))
        }
        let anchors = gen.gridAnchors(featureSizes: sizes.map { (height: $0.0, width: $0.1) })
        let preK = 100, postK = 60
        let t = Box2BoxTransform(weights: [1, 1, 1, 1])
        let got = findTopRPNProposals(objectnessLogits: logits, anchorDeltas: deltas, anchors: anchors, box2box: t,
                                      imageHeight: imageH, imageWidth: imageW, preNMSTopK: preK, postNMSTopK: postK, nmsThreshold: 0.7)

        // Reference: materialise every anchor's (logit, box) in (y, x, a) order, sort, take top-k.
        var boxes: [Box] = [], scores: [Float] = [], levels: [Int] = []
        for (level, (h, w)) in sizes.enumerated() {
            var items: [(score: Float, box: Box)] = []
            for y in 0..<h {
                for x in 0..<w {
                    for a in 0..<3 {
                        let s = logits[level].scalars[(a * h + y) * w + x]
                        let d = (0..<4).map { deltas[level].scalars[((a * 4 + $0) * h + y) * w + x] }
                        let box = t.apply(dx: d[0], dy: d[1], dw: d[2], dh: d[3], to: anchors[level][(y * w + x) * 3 + a])
                        items.append((s, box))
                    }
                }
            }
            let top = items.enumerated().sorted { $0.element.score > $1.element.score || ($0.element.score == $1.element.score && $0.offset < $1.offset) }.prefix(preK)
            for item in top {
                let b = item.element.box
                let c = Box(x0: min(max(b.x0, 0), Float(imageW)), y0: min(max(b.y0, 0), Float(imageH)),
                            x1: min(max(b.x1, 0), Float(imageW)), y1: min(max(b.y1, 0), Float(imageH)))
                guard c.x1 > c.x0 && c.y1 > c.y0 else { continue }
                boxes.append(c); scores.append(item.element.score); levels.append(level)
            }
        }
        let keep = Self.naiveBatchedNMS(boxes, scores, levels, 0.7).prefix(postK)
        #expect(got.boxes == keep.map { boxes[$0] })
        #expect(got.objectnessLogits == keep.map { scores[$0] })
        #expect(got.boxes.count == postK)
    }

    @Test("batchedNMS with a limit is batchedNMS's first boxes", arguments: [0, 1, 100, 700, 100_000])
    func limitedBatchedNMS(limit: Int) {
        var rng = SeededRandom(seed: UInt64(limit + 5))
        // 3000 boxes in 30 groups (one NMS per group, as fast_rcnn_inference's classes), scores on
        // a coarse grid so that ties across and within groups are common; and 240 boxes, which
        // take the coordinate-offset path.
        for (n, groupCount, extent) in [(3000, 30, Float(300)), (240, 3, 100)] {
            let boxes = Self.randomBoxes(n, extent: extent, using: &rng)
            let scores = (0..<n).map { _ in (Float.random(in: 0...1, using: &rng) * 32).rounded() / 32 }
            let groups = (0..<n).map { _ in Int.random(in: 0..<groupCount, using: &rng) }
            let full = batchedNMS(boxes: boxes, scores: scores, groups: groups, iouThreshold: 0.5)
            let limited = batchedNMS(boxes: boxes, scores: scores, groups: groups, iouThreshold: 0.5, limit: limit)
            #expect(limited == Array(full.prefix(limit)), "\(n) boxes, limit \(limit)")
            #expect(full.count > 20 && full.count < n)
        }
    }

    @Test("fastRCNNInference equals a naive softmax / decode / threshold / per-class NMS")
    func boxInference() {
        var rng = SeededRandom(seed: 99)
        let r = 200, k = 4
        let proposals = Self.randomBoxes(r, extent: 150, using: &rng)
        let logits = Tensor(shape: [r, k + 1], scalars: (0..<(r * (k + 1))).map { _ in Float.random(in: -4...4, using: &rng) })
        let deltas = Tensor(shape: [r, 4 * k], scalars: (0..<(r * 4 * k)).map { _ in Float.random(in: -2...2, using: &rng) })
        let t = Box2BoxTransform(weights: [10, 10, 5, 5])
        let topK = 40
        let got = fastRCNNInference(classLogits: logits, boxDeltas: deltas, proposals: proposals, box2box: t,
                                    imageHeight: 160, imageWidth: 170, scoreThreshold: 0.2, nmsThreshold: 0.5, topK: topK)

        var boxes: [Box] = [], scores: [Float] = [], classes: [Int] = [], rows: [Int] = []
        for row in 0..<r {
            let x = (0...k).map { Double(logits.scalars[row * (k + 1) + $0]) }
            let m = x.max() ?? 0
            let e = x.map { exp($0 - m) }
            let sum = e.reduce(0, +)
            for cls in 0..<k where e[cls] / sum > 0.2 {
                let o = (row * k + cls) * 4
                let b = t.apply(dx: deltas.scalars[o], dy: deltas.scalars[o + 1], dw: deltas.scalars[o + 2], dh: deltas.scalars[o + 3], to: proposals[row])
                boxes.append(Box(x0: min(max(b.x0, 0), 170), y0: min(max(b.y0, 0), 160), x1: min(max(b.x1, 0), 170), y1: min(max(b.y1, 0), 160)))
                scores.append(Float(e[cls] / sum)); classes.append(cls); rows.append(row)
            }
        }
        let keep = Array(Self.naiveBatchedNMS(boxes, scores, classes, 0.5).prefix(topK))
        #expect(got.classes == keep.map { classes[$0] })
        #expect(got.proposalIndices == keep.map { rows[$0] })
        #expect(got.boxes == keep.map { boxes[$0] })
        let scoreDiff = zip(got.scores, keep.map { scores[$0] }).map { abs($0 - $1) }.max() ?? 1
        #expect(scoreDiff <= 1e-6)
        #expect(got.scores.count == topK)
        #expect(zip(got.scores, got.scores.dropFirst()).allSatisfy { $0 >= $1 })
    }
}
