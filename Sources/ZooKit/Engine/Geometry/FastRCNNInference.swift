import Foundation

/// Detections of one image from the box head, before `detector_postprocess`.
public struct FastRCNNDetections: Sendable, Equatable {
    /// `pred_boxes`: absolute XYXY in the resized input image, clipped to it.
    public var boxes: [Box]
    /// `scores` (softmax probabilities).
    public var scores: [Float]
    /// `pred_classes`, 0-based foreground classes.
    public var classes: [Int]
    /// For each detection, the proposal row it came from (`filter_inds[:, 0]`).
    public var proposalIndices: [Int]

    public init(boxes: [Box], scores: [Float], classes: [Int], proposalIndices: [Int]) {
        self.boxes = boxes
        self.scores = scores
        self.classes = classes
        self.proposalIndices = proposalIndices
    }
}

/// detectron2's `FastRCNNOutputLayers.inference` / `fast_rcnn_inference_single_image` for one image.
///
/// - Parameters:
///   - classLogits: `[R, K + 1]` `cls_score` outputs, background **last**.
///   - boxDeltas: `[R, 4K]` class-specific (or `[R, 4]` class-agnostic) `bbox_pred` outputs.
///   - proposals: the R proposal boxes the head ran on.
///   - box2box: the head's transform (weights `(10, 10, 5, 5)`).
///   - imageHeight, imageWidth: resized input size the boxes are clipped to.
///   - scoreThreshold: `SCORE_THRESH_TEST`, kept when `score > threshold` (strict).
///   - nmsThreshold: `NMS_THRESH_TEST`, NMS per class.
///   - topK: `TEST.DETECTIONS_PER_IMAGE`; negative keeps everything.
/// - Returns: detections by score descending, as detectron2 orders them.
public func fastRCNNInference(
    classLogits: Tensor, boxDeltas: Tensor, proposals: [Box], box2box: Box2BoxTransform,
    imageHeight: Int, imageWidth: Int, scoreThreshold: Double, nmsThreshold: Double, topK: Int
) -> FastRCNNDetections {
    let r = proposals.count
    precondition(classLogits.rank == 2 && classLogits.shape[0] == r && classLogits.shape[1] >= 2,
                 "fastRCNNInference: class logits must be [\(r), K+1], got \(classLogits.shape)")
    let k = classLogits.shape[1] - 1
    precondition(boxDeltas.rank == 2 && boxDeltas.shape[0] == r && (boxDeltas.shape[1] == 4 * k || boxDeltas.shape[1] == 4),
                 "fastRCNNInference: box deltas must be [\(r), \(4 * k)] or [\(r), 4], got \(boxDeltas.shape)")
    let regClasses = boxDeltas.shape[1] / 4
    let probabilities = softmaxRows(classLogits)
    let decoded = box2box.applyDeltas(boxDeltas.scalars, boxes: proposals)

    // Rows with a non-finite box or score are dropped first (detectron2's valid_mask).
    var validRow = [Bool](repeating: true, count: r)
    for row in 0..<r {
        for j in 0..<regClasses where !decoded[row * regClasses + j].isFinite { validRow[row] = false }
        for j in 0...k where !probabilities[row * (k + 1) + j].isFinite { validRow[row] = false }
    }

    let threshold = Float(scoreThreshold)
    var boxes: [Box] = [], scores: [Float] = [], classes: [Int] = [], rows: [Int] = []
    // filter_mask.nonzero() walks (row, class) in row-major order.
    for row in 0..<r where validRow[row] {
        for cls in 0..<k {
            let score = probabilities[row * (k + 1) + cls]
            guard score > threshold else { continue }
            let box = decoded[row * regClasses + (regClasses == 1 ? 0 : cls)]
            boxes.append(box.clipped(height: imageHeight, width: imageWidth))
            scores.append(score)
            classes.append(cls)
            rows.append(row)
        }
    }
    let keep = topK >= 0
        ? batchedNMS(boxes: boxes, scores: scores, groups: classes, iouThreshold: nmsThreshold, limit: topK)
        : batchedNMS(boxes: boxes, scores: scores, groups: classes, iouThreshold: nmsThreshold)
    return FastRCNNDetections(boxes: keep.map { boxes[$0] }, scores: keep.map { scores[$0] },
                              classes: keep.map { classes[$0] }, proposalIndices: keep.map { rows[$0] })
}

/// Row-wise softmax of a `[R, N]` tensor as PyTorch's CPU kernel computes it:
/// `exp(x - max)`, summed in order, multiplied by `1 / sum`.
func softmaxRows(_ logits: Tensor) -> [Float] {
    let n = logits.shape[1]
    var out = [Float](repeating: 0, count: logits.count)
    guard n > 0 else { return out }
    logits.withUnsafeBufferPointer { x in
        out.withUnsafeMutableBufferPointer { y in
            for row in 0..<(logits.count / n) {
                let o = row * n
                var m = x[o]
                for j in 1..<n { m = max(m, x[o + j]) }
                var sum: Float = 0
                for j in 0..<n {
                    let e = Foundation.exp(x[o + j] - m)
                    y[o + j] = e
                    sum += e
                }
                let inv = 1 / sum
                for j in 0..<n { y[o + j] *= inv }
            }
        }
    }
    return out
}
