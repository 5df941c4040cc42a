import Foundation

/// Non-maximum suppression with torchvision's semantics (`torchvision/csrc/ops/cpu/nms_kernel.cpp`
/// and `torchvision.ops.boxes.batched_nms`, which detectron2's `batched_nms` calls).

/// Indices of `scores` sorted by score descending, ties in index order (torch's stable sort).
@usableFromInline
func stableOrderDescending(_ scores: [Float]) -> [Int] {
    var order = Array(scores.indices)
    scores.withUnsafeBufferPointer { s in
        order.sort { a, b in s[a] > s[b] || (s[a] == s[b] && a < b) }
    }
    return order
}

/// torchvision `nms`: visits boxes by score descending (stable), keeps a box unless an already kept
/// box overlaps it with IoU `> iouThreshold` (strict); areas are `(x1 - x0) * (y1 - y0)`.
///
/// Returns the kept indices into `boxes`, by score descending.
public func nms(boxes: [Box], scores: [Float], iouThreshold: Double) -> [Int] {
    precondition(boxes.count == scores.count, "nms: \(boxes.count) boxes but \(scores.count) scores")
    let n = boxes.count
    guard n > 0 else { return [] }
    let order = stableOrderDescending(scores)
    var x0 = [Float](repeating: 0, count: n), y0 = x0, x1 = x0, y1 = x0, areas = x0
    for (i, b) in boxes.enumerated() {
        x0[i] = b.x0; y0[i] = b.y0; x1[i] = b.x1; y1[i] = b.y1
        areas[i] = (b.x1 - b.x0) * (b.y1 - b.y0)
    }
    var keep: [Int] = []
    var suppressed = [Bool](repeating: false, count: n)
    x0.withUnsafeBufferPointer { x0 in y0.withUnsafeBufferPointer { y0 in
    x1.withUnsafeBufferPointer { x1 in y1.withUnsafeBufferPointer { y1 in
    areas.withUnsafeBufferPointer { areas in suppressed.withUnsafeMutableBufferPointer { suppressed in
    order.withUnsafeBufferPointer { order in
        for oi in 0..<n {
            let i = order[oi]
            if suppressed[i] { continue }
            keep.append(i)
            let ix0 = x0[i], iy0 = y0[i], ix1 = x1[i], iy1 = y1[i], iarea = areas[i]
            var oj = oi + 1
            while oj < n {
                let j = order[oj]
                oj += 1
                if suppressed[j] { continue }
                let w = max(0, min(ix1, x1[j]) - max(ix0, x0[j]))
                let h = max(0, min(iy1, y1[j]) - max(iy0, y0[j]))
                let inter = w * h
                let ovr = inter / (iarea + areas[j] - inter)
                // The kernel compares the float IoU with the double threshold.
                if Double(ovr) > iouThreshold { suppressed[j] = true }
            }
        }
    }}}}}}}
    return keep
}

/// torchvision `batched_nms`: NMS independently within each group (`groups[i]`, e.g. class or
/// level); returns kept indices by score descending.
///
/// Like torchvision on CPU, more than 1000 boxes run one NMS per group (`_batched_nms_vanilla`) and
/// fewer run a single NMS on boxes offset by `group * (max coordinate + 1)`
/// (`_batched_nms_coordinate_trick`), whose float32 rounding can matter at IoU ties.
public func batchedNMS(boxes: [Box], scores: [Float], groups: [Int], iouThreshold: Double) -> [Int] {
    precondition(boxes.count == scores.count && boxes.count == groups.count,
                 "batchedNMS: \(boxes.count) boxes, \(scores.count) scores, \(groups.count) groups")
    guard !boxes.isEmpty else { return [] }
    if boxes.count * 4 > 4000 {
        var keepMask = [Bool](repeating: false, count: boxes.count)
        var members: [Int: [Int]] = [:]
        for (i, g) in groups.enumerated() { members[g, default: []].append(i) }
        // Groups are independent and each writes only its own members' flags: shared out to the cores.
        let groupMembers = Array(members.values)
        keepMask.withUnsafeMutableBufferPointer { mask in
            guard let flags = mask.baseAddress else { return }
            DispatchQueue.concurrentPerform(iterations: groupMembers.count) { g in
                let indices = groupMembers[g]
                let kept = nms(boxes: indices.map { boxes[$0] }, scores: indices.map { scores[$0] },
                               iouThreshold: iouThreshold)
                for k in kept { flags[indices[k]] = true }
            }
        }
        let keptIndices = keepMask.indices.filter { keepMask[$0] }
        let order = stableOrderDescending(keptIndices.map { scores[$0] })
        return order.map { keptIndices[$0] }
    } else {
        var maxCoordinate = -Float.infinity
        for b in boxes { maxCoordinate = max(maxCoordinate, b.x0, b.y0, b.x1, b.y1) }
        let step = maxCoordinate + 1
        let shifted = zip(boxes, groups).map { b, g -> Box in
            let o = Float(g) * step
            return Box(x0: b.x0 + o, y0: b.y0 + o, x1: b.x1 + o, y1: b.y1 + o)
        }
        return nms(boxes: shifted, scores: scores, iouThreshold: iouThreshold)
    }
}
