import Foundation

/// Non-maximum suppression with torchvision's semantics (`torchvision/csrc/ops/cpu/nms_kernel.cpp`
/// and `torchvision.ops.boxes.batched_nms`, which detectron2's `batched_nms` calls).

/// torchvision `nms`: visits boxes by score descending (stable), keeps a box unless an already kept
/// box overlaps it with IoU `> iouThreshold` (strict); areas are `(x1 - x0) * (y1 - y0)`.
///
/// Boxes are copied in visiting order, so each kept box is compared with all later ones sixteen
/// at a time; the IoU is computed in float32 as the kernel does, and the kernel's comparison of
/// that float with the double threshold is made exactly against the largest float not above it.
///
/// Returns the kept indices into `boxes`, by score descending.
public func nms(boxes: [Box], scores: [Float], iouThreshold: Double) -> [Int] {
    precondition(boxes.count == scores.count, "nms: \(boxes.count) boxes but \(scores.count) scores")
    let n = boxes.count
    guard n > 0 else { return [] }
    let order = stableOrderDescending(scores)
    // Sorted copies, padded to a multiple of 16 with empty boxes (never visited).
    let padded = (n + 15) / 16 * 16
    var x0 = [Float](repeating: 0, count: padded), y0 = x0, x1 = x0, y1 = x0, areas = x0
    for (k, i) in order.enumerated() {
        let b = boxes[i]
        x0[k] = b.x0; y0[k] = b.y0; x1[k] = b.x1; y1[k] = b.y1
        areas[k] = (b.x1 - b.x0) * (b.y1 - b.y0)
    }
    let threshold = floatThreshold(iouThreshold)
    var suppressed = [Int32](repeating: 0, count: padded)
    var keep: [Int] = []
    x0.withUnsafeBufferPointer { x0 in y0.withUnsafeBufferPointer { y0 in
    x1.withUnsafeBufferPointer { x1 in y1.withUnsafeBufferPointer { y1 in
    areas.withUnsafeBufferPointer { areas in suppressed.withUnsafeMutableBufferPointer { suppressed in
        guard let px0 = x0.baseAddress, let py0 = y0.baseAddress, let px1 = x1.baseAddress, let py1 = y1.baseAddress,
              let pa = areas.baseAddress, let ps = suppressed.baseAddress else { return }
        typealias V = SIMD16<Float>
        func load(_ p: UnsafePointer<Float>, _ k: Int) -> V { UnsafeRawPointer(p + k).loadUnaligned(as: V.self) }
        let zero = V.zero, t = V(repeating: threshold)
        for oi in 0..<n {
            if ps[oi] != 0 { continue }
            keep.append(order[oi])
            let ix0 = V(repeating: px0[oi]), iy0 = V(repeating: py0[oi])
            let ix1 = V(repeating: px1[oi]), iy1 = V(repeating: py1[oi]), iarea = V(repeating: pa[oi])
            // Later boxes, from the 16-aligned block holding oi + 1; those at or before oi are
            // kept or already visited, so flagging them changes nothing that is read again.
            var k = (oi + 1) / 16 * 16
            while k < n {
                let w = lanewiseMax(lanewiseMin(ix1, load(px1, k)) - lanewiseMax(ix0, load(px0, k)), zero)
                let h = lanewiseMax(lanewiseMin(iy1, load(py1, k)) - lanewiseMax(iy0, load(py0, k)), zero)
                let inter = w * h
                let ovr = inter / (iarea + load(pa, k) - inter)
                let raw = UnsafeMutableRawPointer(ps + k)
                var flags = raw.loadUnaligned(as: SIMD16<Int32>.self)
                flags.replace(with: 1, where: ovr .> t)
                raw.storeBytes(of: flags, as: SIMD16<Int32>.self)
                k += 16
            }
        }
    }}}}}}
    return keep
}

/// The largest float whose double is `<= threshold`: for a float IoU `ovr`,
/// `Double(ovr) > threshold` exactly when `ovr > floatThreshold(threshold)` (torchvision compares
/// the float IoU with the double threshold).
func floatThreshold(_ threshold: Double) -> Float {
    var t = Float(threshold)
    if Double(t) > threshold { t = t.nextDown }
    return t
}

/// Lane-wise `min` (`pointwiseMin` is not vectorised: twenty times slower here).
@inline(__always)
func lanewiseMin(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> { a.replacing(with: b, where: b .< a) }

/// Lane-wise `max` (`pointwiseMax` is not vectorised).
@inline(__always)
func lanewiseMax(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> { a.replacing(with: b, where: b .> a) }

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

/// `batchedNMS(...)` cut to its first `limit` kept boxes, without deciding the boxes after them.
///
/// With more than 1000 boxes torchvision runs one NMS per group, and a box's fate depends only on
/// the kept boxes of its own group that come before it in score order (ties by index). Visiting
/// all boxes in that order once, each against its group's kept boxes with the same float IoU, keeps
/// the same boxes in the same order, and can stop at the `limit`-th: `fast_rcnn_inference` keeps
/// 100 of up to 80,000 candidates. Fewer boxes take `batchedNMS`'s own path (its coordinate offsets
/// round differently), then the prefix.
public func batchedNMS(boxes: [Box], scores: [Float], groups: [Int], iouThreshold: Double, limit: Int) -> [Int] {
    precondition(boxes.count == scores.count && boxes.count == groups.count,
                 "batchedNMS: \(boxes.count) boxes, \(scores.count) scores, \(groups.count) groups")
    guard limit > 0, !boxes.isEmpty else { return [] }
    guard boxes.count * 4 > 4000 else {
        return Array(batchedNMS(boxes: boxes, scores: scores, groups: groups, iouThreshold: iouThreshold).prefix(limit))
    }
    let threshold = floatThreshold(iouThreshold)
    /// A group's kept boxes and their areas.
    struct Kept { var boxes: [Box] = [], areas: [Float] = [] }
    var kept: [Int: Kept] = [:]
    var keep: [Int] = []
    for i in stableOrderDescending(scores) {
        let b = boxes[i], area = (b.x1 - b.x0) * (b.y1 - b.y0)
        var suppressed = false
        if let group = kept[groups[i]] {
            for (k, other) in group.boxes.enumerated() {
                // nms's arithmetic, the kept box as its first operand (lanewiseMin / lanewiseMax).
                let w = atLeast(atMost(other.x1, b.x1) - atLeast(other.x0, b.x0), 0)
                let h = atLeast(atMost(other.y1, b.y1) - atLeast(other.y0, b.y0), 0)
                let inter = w * h
                if inter / (group.areas[k] + area - inter) > threshold {
                    suppressed = true
                    break
                }
            }
        }
        guard !suppressed else { continue }
        keep.append(i)
        if keep.count == limit { break }
        kept[groups[i], default: Kept()].boxes.append(b)
        kept[groups[i], default: Kept()].areas.append(area)
    }
    return keep
}

/// `lanewiseMin` for one lane: `b` where `b < a`, else `a`.
@inline(__always)
private func atMost(_ a: Float, _ b: Float) -> Float { b < a ? b : a }

/// `lanewiseMax` for one lane: `b` where `b > a`, else `a`.
@inline(__always)
private func atLeast(_ a: Float, _ b: Float) -> Float { b > a ? b : a }
