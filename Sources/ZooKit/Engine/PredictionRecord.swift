import Foundation

/// One image's result in the JSON schema of the fixtures' golden files (documented in the README):
/// what `zoo run --json` writes, one object per image.
public struct PredictionRecord: Encodable, Sendable {
    public var model: String
    public var weights: String
    public var config: String?
    public var image: String
    public var imageWidth: Int
    public var imageHeight: Int
    public var preprocess: Preprocess
    public var thresholds: Thresholds
    public var numProposals: Int
    public var instances: [Instance]
    /// Seconds per stage, then the whole image.
    public var seconds: [String: Double]
    /// `"bf16"` when the model ran in `ConvolutionPrecision.bfloat16`; absent for float32, the
    /// goldens' precision.
    public var precision: String?

    /// The network input, as detectron2's `DefaultPredictor` made it.
    public struct Preprocess: Encodable, Sendable {
        public var minSizeTest: Int
        public var maxSizeTest: Int
        public var resizedHeight: Int
        public var resizedWidth: Int
        public var paddedHeight: Int
        public var paddedWidth: Int
        public var pixelMean: [Double]
        public var pixelStd: [Double]
        public var format: String

        enum CodingKeys: String, CodingKey {
            case minSizeTest = "min_size_test", maxSizeTest = "max_size_test", resizedHeight = "resized_height"
            case resizedWidth = "resized_width", paddedHeight = "padded_height", paddedWidth = "padded_width"
            case pixelMean = "pixel_mean", pixelStd = "pixel_std", format
        }
    }

    /// The test-time thresholds the result was made with.
    public struct Thresholds: Encodable, Sendable {
        public var scoreThreshTest: Double
        public var nmsThreshTest: Double
        public var detectionsPerImage: Int
        public var maskThreshold: Double

        enum CodingKeys: String, CodingKey {
            case scoreThreshTest = "score_thresh_test", nmsThreshTest = "nms_thresh_test"
            case detectionsPerImage = "detections_per_image", maskThreshold = "mask_threshold"
        }
    }

    /// One detection; boxes in input-image pixels (`box_xyxy`) and network-input pixels (`box_xyxy_input`).
    public struct Instance: Encodable, Sendable {
        public var classIndex: Int
        public var className: String
        public var score: Double
        public var boxXYXY: [Double]
        public var boxXYXYInput: [Double]
        public var maskRLE: RLE?
        public var maskArea: Int?
        public var keypoints: [[Double]]?
        public var keypointLogits: [Double]?

        enum CodingKeys: String, CodingKey {
            case classIndex = "class", className = "class_name", score, boxXYXY = "box_xyxy"
            case boxXYXYInput = "box_xyxy_input", maskRLE = "mask_rle", maskArea = "mask_area", keypoints
            case keypointLogits = "keypoint_logits"
        }
    }

    /// COCO RLE with pycocotools' compact `counts` string, column-major.
    public struct RLE: Encodable, Sendable {
        public var size: [Int]
        public var counts: String
    }

    enum CodingKeys: String, CodingKey {
        case model, weights, config, image, imageWidth = "image_width", imageHeight = "image_height"
        case preprocess, thresholds, numProposals = "num_proposals", instances, seconds, precision
    }

    /// The record of `prediction`, made by a model with `config` on `image` (named as the user gave it).
    public init(prediction: Prediction, config: RCNNConfig, model: String, weights: String, configName: String?,
                image: String, classNames: [String], precision: ConvolutionPrecision = .float32) {
        self.model = model
        self.precision = precision == .float32 ? nil : precision.rawValue
        self.weights = weights
        self.config = configName
        self.image = image
        imageWidth = prediction.imageWidth
        imageHeight = prediction.imageHeight
        preprocess = Preprocess(
            minSizeTest: config.input.minSizeTest, maxSizeTest: config.input.maxSizeTest,
            resizedHeight: prediction.resizedHeight, resizedWidth: prediction.resizedWidth,
            paddedHeight: prediction.paddedHeight, paddedWidth: prediction.paddedWidth,
            pixelMean: config.model.pixelMean, pixelStd: config.model.pixelStd, format: config.input.format)
        thresholds = Thresholds(
            scoreThreshTest: config.model.roiHeads.scoreThreshTest, nmsThreshTest: config.model.roiHeads.nmsThreshTest,
            detectionsPerImage: config.test.detectionsPerImage, maskThreshold: 0.5)
        numProposals = prediction.numProposals
        instances = prediction.detections.map { d in
            func coords(_ b: Box) -> [Double] { [Double(b.x0), Double(b.y0), Double(b.x1), Double(b.y1)] }
            let name = classNames.indices.contains(d.classIndex) ? classNames[d.classIndex] : "class \(d.classIndex)"
            var instance = Instance(classIndex: d.classIndex, className: name, score: Double(d.score),
                                    boxXYXY: coords(d.box), boxXYXYInput: coords(d.boxInput))
            if let mask = d.mask {
                let rle = MaskRLE(mask: mask)
                instance.maskRLE = RLE(size: [rle.height, rle.width], counts: rle.compactCounts)
                instance.maskArea = rle.area
            }
            if let kps = d.keypoints {
                instance.keypoints = kps.map { [Double($0.x), Double($0.y), Double($0.score)] }
                instance.keypointLogits = kps.map { Double($0.logit) }
            }
            return instance
        }
        let t = prediction.times
        seconds = ["preprocess": t.preprocess, "backbone": t.backbone, "rpn": t.rpn, "box_head": t.boxHead,
                   "mask_head": t.maskHead, "keypoint_head": t.keypointHead, "postprocess": t.postprocess,
                   "total": t.total]
    }

    /// One line of JSON (sorted keys), without a trailing newline.
    ///
    /// - Throws: `PredictionRecordError.nonFinite` (from `checkFinite`) when a number is NaN or
    ///   infinite, which JSON cannot hold.
    public func jsonLine() throws -> Data {
        try checkFinite()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    /// Checks that every number of the record is finite, as JSON needs; NaN or infinity in a score,
    /// box or keypoint comes from a model computing with broken weights.
    ///
    /// - Throws: `PredictionRecordError.nonFinite` naming the image and the first such field.
    public func checkFinite() throws {
        func check(_ values: [Double], _ field: String) throws {
            for (i, value) in values.enumerated() where !value.isFinite {
                throw PredictionRecordError.nonFinite(image: image, field: values.count == 1 ? field : "\(field)[\(i)]", value: value)
            }
        }
        try check(preprocess.pixelMean, "preprocess.pixel_mean")
        try check(preprocess.pixelStd, "preprocess.pixel_std")
        try check([thresholds.scoreThreshTest], "thresholds.score_thresh_test")
        try check([thresholds.nmsThreshTest], "thresholds.nms_thresh_test")
        try check([thresholds.maskThreshold], "thresholds.mask_threshold")
        for (n, instance) in instances.enumerated() {
            try check([instance.score], "instances[\(n)].score")
            try check(instance.boxXYXY, "instances[\(n)].box_xyxy")
            try check(instance.boxXYXYInput, "instances[\(n)].box_xyxy_input")
            for (k, keypoint) in (instance.keypoints ?? []).enumerated() {
                try check(keypoint, "instances[\(n)].keypoints[\(k)]")
            }
            try check(instance.keypointLogits ?? [], "instances[\(n)].keypoint_logits")
        }
        for (stage, value) in seconds.sorted(by: { $0.key < $1.key }) {
            try check([value], "seconds.\(stage)")
        }
    }
}

/// Why a `PredictionRecord` cannot be written.
public enum PredictionRecordError: Error, CustomStringConvertible, Equatable, Sendable {
    /// `field` (a JSON path such as `instances[3].score`) of `image`'s result is NaN or infinite.
    case nonFinite(image: String, field: String, value: Double)

    public static func == (a: PredictionRecordError, b: PredictionRecordError) -> Bool {
        switch (a, b) {
        case let (.nonFinite(imageA, fieldA, valueA), .nonFinite(imageB, fieldB, valueB)):
            // NaN equals NaN here: the same report.
            return imageA == imageB && fieldA == fieldB && (valueA == valueB || (valueA.isNaN && valueB.isNaN))
        }
    }

    public var description: String {
        switch self {
        case let .nonFinite(image, field, value):
            return "the result for image \(displayPath(image)) has \(field) = \(value), which JSON cannot hold; "
                + "the model computed a non-finite number, so its weights are likely damaged: fetch or convert them again"
        }
    }
}
