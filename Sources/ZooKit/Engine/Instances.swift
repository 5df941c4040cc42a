/// An axis-aligned box in absolute XYXY pixel coordinates (continuous: pixel `i` spans `[i, i+1)`),
/// as detectron2's `Boxes` holds it.
public struct Box: Sendable, Equatable, Codable {
    public var x0: Float
    public var y0: Float
    public var x1: Float
    public var y1: Float

    public init(x0: Float, y0: Float, x1: Float, y1: Float) {
        self.x0 = x0
        self.y0 = y0
        self.x1 = x1
        self.y1 = y1
    }

    public var width: Float { x1 - x0 }
    public var height: Float { y1 - y0 }
    /// `(x1 - x0) * (y1 - y0)`, no `+1` (detectron2 / torchvision convention).
    public var area: Float { width * height }
}

/// A binary mask of one instance at the input image's size, row-major, one byte per pixel (0 or 1).
public struct BitMask: Sendable, Equatable {
    public var width: Int
    public var height: Int
    /// `height * width` values, row-major, each 0 or 1.
    public var bits: [UInt8]

    public init(width: Int, height: Int, bits: [UInt8]) {
        precondition(bits.count == width * height, "BitMask needs \(width * height) values, got \(bits.count)")
        self.width = width
        self.height = height
        self.bits = bits
    }

    /// Number of set pixels.
    public var area: Int { bits.reduce(0) { $0 + Int($1) } }
}

/// One predicted keypoint: detectron2's `pred_keypoints` row `(x, y, score)` in input-image
/// continuous coordinates, plus the heatmap logit at the argmax.
public struct Keypoint: Sendable, Equatable, Codable {
    public var x: Float
    public var y: Float
    public var score: Float
    public var logit: Float

    public init(x: Float, y: Float, score: Float, logit: Float) {
        self.x = x
        self.y = y
        self.score = score
        self.logit = logit
    }
}

/// One detected instance, as detectron2's `Instances` row after `detector_postprocess`.
public struct Detection: Sendable, Equatable {
    /// 0-based class index (`pred_classes`).
    public var classIndex: Int
    /// `scores`.
    public var score: Float
    /// `pred_boxes` in input-image pixels.
    public var box: Box
    /// The same box in the resized network-input coordinates, before postprocessing.
    public var boxInput: Box
    /// `pred_masks` at input-image size, for mask models.
    public var mask: BitMask?
    /// `pred_keypoints`, for keypoint models.
    public var keypoints: [Keypoint]?

    public init(classIndex: Int, score: Float, box: Box, boxInput: Box, mask: BitMask? = nil, keypoints: [Keypoint]? = nil) {
        self.classIndex = classIndex
        self.score = score
        self.box = box
        self.boxInput = boxInput
        self.mask = mask
        self.keypoints = keypoints
    }
}
