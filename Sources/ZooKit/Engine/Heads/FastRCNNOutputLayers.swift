/// The linear layers of detectron2's `FastRCNNOutputLayers`: `cls_score` (K + 1 logits, background
/// last) and `bbox_pred` (4 deltas per class, or 4 when class-agnostic).
public final class FastRCNNOutputLayers {
    public let clsScore: Linear
    public let bboxPred: Linear
    /// Foreground classes K.
    public var numClasses: Int { clsScore.outFeatures - 1 }

    /// Loads `prefix.cls_score` and `prefix.bbox_pred`; `numClasses` is `ROI_HEADS.NUM_CLASSES`.
    public init(_ weights: StateDict, prefix: String = "roi_heads.box_predictor", inputSize: Int, numClasses: Int,
                classAgnosticBoxReg: Bool = false, boxDim: Int = 4) throws {
        clsScore = try Linear(weights, prefix + ".cls_score", in: inputSize, out: numClasses + 1)
        bboxPred = try Linear(weights, prefix + ".bbox_pred", in: inputSize,
                              out: (classAgnosticBoxReg ? 1 : numClasses) * boxDim)
    }

    /// `[R, inputSize]` -> scores `[R, K + 1]` (logits) and deltas `[R, 4K]`.
    public func forward(_ x: Tensor) throws -> (scores: Tensor, deltas: Tensor) {
        (try clsScore.forward(x), try bboxPred.forward(x))
    }
}
