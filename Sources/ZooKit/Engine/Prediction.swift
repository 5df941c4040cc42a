import Foundation

/// One image's result: detectron2's postprocessed `Instances` plus the sizes the model worked at.
public struct Prediction: Sendable {
    /// The input image's size; boxes, masks and keypoints are in its pixels.
    public var imageWidth: Int
    public var imageHeight: Int
    /// The network input's size after `ResizeShortestEdge`, before padding.
    public var resizedWidth: Int
    public var resizedHeight: Int
    /// The padded network input (multiples of the backbone's size divisibility).
    public var paddedWidth: Int
    public var paddedHeight: Int
    /// RPN proposals after NMS.
    public var numProposals: Int
    /// Detections by score descending.
    public var detections: [Detection]
    /// Seconds spent in each stage.
    public var times: StageTimes
}

/// Seconds spent in each stage of `GeneralizedRCNN.predict`.
public struct StageTimes: Sendable, Equatable {
    public var preprocess = 0.0
    /// ResNet and FPN.
    public var backbone = 0.0
    public var rpn = 0.0
    public var boxHead = 0.0
    public var maskHead = 0.0
    public var keypointHead = 0.0
    public var postprocess = 0.0

    public init() {}

    /// All stages together.
    public var total: Double { preprocess + backbone + rpn + boxHead + maskHead + keypointHead + postprocess }
}

/// A monotonic stopwatch that reports the time since its last lap.
struct StageClock {
    private var last = DispatchTime.now().uptimeNanoseconds

    mutating func lap() -> Double {
        let now = DispatchTime.now().uptimeNanoseconds
        defer { last = now }
        return Double(now - last) / 1e9
    }
}
