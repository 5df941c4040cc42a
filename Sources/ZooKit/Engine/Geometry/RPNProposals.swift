/// RPN proposals of one image: boxes in the resized input's pixels with their objectness logits,
/// in detectron2's output order (logit descending).
public struct RPNProposals: Sendable, Equatable {
    /// `proposal_boxes`, absolute XYXY in the resized (network input) image.
    public var boxes: [Box]
    /// `objectness_logits`, one per box.
    public var objectnessLogits: [Float]

    public init(boxes: [Box], objectnessLogits: [Float]) {
        self.boxes = boxes
        self.objectnessLogits = objectnessLogits
    }
}

/// detectron2's `find_top_rpn_proposals` (with `RPN.predict_proposals`) for a batch of one image.
///
/// - Parameters:
///   - objectnessLogits: per level, `[1, A, H, W]` float32 RPN objectness logits.
///   - anchorDeltas: per level, `[1, 4A, H, W]` deltas, channel `a * 4 + (dx, dy, dw, dh)`.
///   - anchors: per level, the anchors in `(y, x, a)` order (`DefaultAnchorGenerator.gridAnchors`).
///   - box2box: the RPN's transform (weights `(1, 1, 1, 1)`).
///   - imageHeight, imageWidth: the resized, unpadded input size that boxes are clipped to.
///   - preNMSTopK: `RPN.PRE_NMS_TOPK_TEST`, taken per level.
///   - postNMSTopK: `RPN.POST_NMS_TOPK_TEST`, over all levels.
///   - nmsThreshold: `RPN.NMS_THRESH`; NMS runs per level.
///   - minBoxSize: boxes with width or height `<=` this are dropped (0 in detectron2).
public func findTopRPNProposals(
    objectnessLogits: [Tensor], anchorDeltas: [Tensor], anchors: [[Box]], box2box: Box2BoxTransform,
    imageHeight: Int, imageWidth: Int, preNMSTopK: Int, postNMSTopK: Int, nmsThreshold: Double,
    minBoxSize: Float = 0
) -> RPNProposals {
    precondition(objectnessLogits.count == anchorDeltas.count && objectnessLogits.count == anchors.count,
                 "findTopRPNProposals: \(objectnessLogits.count) logit maps, \(anchorDeltas.count) delta maps, \(anchors.count) anchor sets")
    var boxes: [Box] = []
    var scores: [Float] = []
    var levels: [Int] = []
    for level in objectnessLogits.indices {
        let logits = objectnessLogits[level], deltas = anchorDeltas[level]
        precondition(logits.rank == 4 && logits.shape[0] == 1,
                     "findTopRPNProposals: logits of level \(level) must be [1, A, H, W], got \(logits.shape)")
        let a = logits.shape[1], h = logits.shape[2], w = logits.shape[3]
        precondition(deltas.shape == [1, 4 * a, h, w],
                     "findTopRPNProposals: deltas of level \(level) must be [1, \(4 * a), \(h), \(w)], got \(deltas.shape)")
        precondition(anchors[level].count == a * h * w,
                     "findTopRPNProposals: \(anchors[level].count) anchors for level \(level) of \(a * h * w) positions")
        let hw = h * w
        // pred_objectness_logits: permute(0, 2, 3, 1).flatten(1) -> index (y * W + x) * A + a
        var flat = [Float](repeating: 0, count: a * hw)
        logits.withUnsafeBufferPointer { src in
            for ai in 0..<a {
                for p in 0..<hw { flat[p * a + ai] = src[ai * hw + p] }
            }
        }
        let k = min(preNMSTopK, flat.count)
        let top = topKIndices(flat, k: k)
        deltas.withUnsafeBufferPointer { d in
            for idx in top {
                let p = idx / a, ai = idx % a
                let base = ai * 4 * hw + p
                let box = box2box.apply(dx: d[base], dy: d[base + hw], dw: d[base + 2 * hw], dh: d[base + 3 * hw],
                                        to: anchors[level][idx])
                boxes.append(box)
                scores.append(flat[idx])
                levels.append(level)
            }
        }
    }
    // Non-finite boxes or scores are dropped at inference (detectron2 raises only in training).
    var kept: [Int] = []
    kept.reserveCapacity(boxes.count)
    for i in boxes.indices where boxes[i].isFinite && scores[i].isFinite {
        boxes[i] = boxes[i].clipped(height: imageHeight, width: imageWidth)
        if boxes[i].isNonempty(threshold: minBoxSize) { kept.append(i) }
    }
    let keptBoxes = kept.map { boxes[$0] }, keptScores = kept.map { scores[$0] }
    let keep = batchedNMS(boxes: keptBoxes, scores: keptScores, groups: kept.map { levels[$0] },
                          iouThreshold: nmsThreshold).prefix(postNMSTopK)
    return RPNProposals(boxes: keep.map { keptBoxes[$0] }, objectnessLogits: keep.map { keptScores[$0] })
}
