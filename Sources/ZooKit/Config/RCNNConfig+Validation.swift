extension RCNNConfig {
    /// The upper bounds `validate()` puts on values detectron2 leaves unbounded. The engine sizes
    /// its buffers from these keys and release builds do not trap, so an absurd value would
    /// allocate terabytes, loop for ever or read out of bounds; each bound is far above every
    /// published detectron2 config.
    public enum Limits {
        /// `INPUT.MIN_SIZE_TEST` and `MAX_SIZE_TEST`, in pixels (zoo configs use at most 1333;
        /// 10000 is a 400 MB input tensor).
        public static let imageSize = 10_000
        /// `RPN.PRE_NMS_TOPK_TEST`, `POST_NMS_TOPK_TEST` and `TEST.DETECTIONS_PER_IMAGE` (zoo
        /// configs use at most 6000).
        public static let topK = 1_000_000
        /// `POOLER_RESOLUTION` of every head (zoo configs use 7 and 14).
        public static let poolerResolution = 64
        /// `POOLER_SAMPLING_RATIO` of every head, samples per bin side (zoo configs use 0 and 2).
        public static let samplingRatio = 64
        /// Channel counts: conv and FC dims, FPN and ResNet widths (zoo configs use at most 2048).
        public static let channels = 65_536
        /// Layer counts: `NUM_CONV`, `NUM_FC`, `CONV_DIMS` entries, anchor sizes and ratios per level.
        public static let layers = 64
        /// `ROI_HEADS.NUM_CLASSES` (LVIS has 1203).
        public static let classes = 100_000
        /// `ROI_KEYPOINT_HEAD.NUM_KEYPOINTS` (COCO has 17).
        public static let keypoints = 1_000
        /// `ANCHOR_GENERATOR.SIZES`, in input pixels, and `ASPECT_RATIOS` (zoo configs: 512 and 2).
        public static let anchorSize = 100_000.0
        /// The largest aspect ratio (and 1 / the smallest).
        public static let aspectRatio = 1_000.0
        /// Floats in one pooler's output, `[boxes, FPN.OUT_CHANNELS, R, R]` (2^30: 4 GiB; the zoo's
        /// largest is 1000 x 256 x 7 x 7, 12.5 M).
        public static let pooledScalars = 1 << 30
    }

    /// The feature names detectron2's ResNet and FPN backbones produce, with their strides.
    /// (`res5` has stride 16 under `RES5_DILATION: 2`, which the engine does not run.)
    static let featureStrides: KeyValuePairs<String, Int> = [
        "stem": 4, "res2": 4, "res3": 8, "res4": 16, "res5": 32,
        "p2": 4, "p3": 8, "p4": 16, "p5": 32, "p6": 64, "p7": 128,
    ]

    /// Checks every value the engine reads against what detectron2 accepts (its asserts in
    /// `DefaultAnchorGenerator`, `ROIPooler`, `Box2BoxTransform`, `ResNet`, ...), within `Limits`.
    /// `load(contentsOf:)` and `applying(_:source:base:)` run it; call it on a config built by hand.
    ///
    /// Heads that are off (`MASK_ON`, `KEYPOINT_ON`) are not checked, as detectron2 does not build
    /// them. Throws `ConfigError.outOfRange` for the first bad key.
    public func validate() throws {
        try validate { _ in ConfigError.Location(file: "config") }
    }

    /// `validate()`, with each key's error placed at `origin(key)`.
    func validate(origin: @escaping (String) -> ConfigError.Location) throws {
        let check = Check(origin: origin)
        let m = model

        // INPUT: ResizeShortestEdge; 0 is detectron2's "no resize" (NoOpTransform).
        try check.int("INPUT.MIN_SIZE_TEST", input.minSizeTest, 0...Limits.imageSize, "0 (no resize) to \(Limits.imageSize) pixels")
        try check.int("INPUT.MAX_SIZE_TEST", input.maxSizeTest, 1...Limits.imageSize, "1 to \(Limits.imageSize) pixels")
        try check.int("TEST.DETECTIONS_PER_IMAGE", test.detectionsPerImage, Int.min...Limits.topK,
                      "at most \(Limits.topK) (negative keeps every detection)")

        // GeneralizedRCNN: (x - pixel_mean) / pixel_std over the 3 channels of a BGR or RGB image.
        try check.doubles("MODEL.PIXEL_MEAN", m.pixelMean, count: 3...3, "3 finite numbers, one per BGR/RGB channel") {
            $0.isFinite
        }
        try check.doubles("MODEL.PIXEL_STD", m.pixelStd, count: 3...3, "3 positive finite numbers, one per BGR/RGB channel") {
            $0.isFinite && $0 > 0
        }

        // ResNet and FPN.
        let r = m.resnets
        try check.int("MODEL.RESNETS.DEPTH", r.depth, 18...152, "18, 34, 50, 101 or 152", ok: [18, 34, 50, 101, 152].contains(r.depth))
        try check.int("MODEL.RESNETS.NUM_GROUPS", r.numGroups, 1...Limits.channels, "1 to \(Limits.channels)")
        try check.int("MODEL.RESNETS.WIDTH_PER_GROUP", r.widthPerGroup, 1...Limits.channels, "1 to \(Limits.channels)")
        try check.int("MODEL.RESNETS.RES2_OUT_CHANNELS", r.res2OutChannels, 1...Limits.channels, "1 to \(Limits.channels)")
        try check.int("MODEL.RESNETS.STEM_OUT_CHANNELS", r.stemOutChannels, 1...Limits.channels, "1 to \(Limits.channels)")
        try check.int("MODEL.RESNETS.RES5_DILATION", r.res5Dilation, 1...2, "1 or 2")
        try check.int("MODEL.FPN.OUT_CHANNELS", m.fpn.outChannels, 1...Limits.channels, "1 to \(Limits.channels)")

        // DefaultAnchorGenerator: sizes and ratios per level (or one list for all), offset in [0, 1).
        let a = m.anchorGenerator
        try check.doubleLists("MODEL.ANCHOR_GENERATOR.SIZES", a.sizes,
                              "1 to \(Limits.layers) non-empty lists of sizes in (0, \(Int(Limits.anchorSize))] pixels") {
            $0.isFinite && $0 > 0 && $0 <= Limits.anchorSize
        }
        try check.doubleLists("MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS", a.aspectRatios,
                              "1 to \(Limits.layers) non-empty lists of ratios in [1/\(Int(Limits.aspectRatio)), \(Int(Limits.aspectRatio))]") {
            $0.isFinite && $0 >= 1 / Limits.aspectRatio && $0 <= Limits.aspectRatio
        }
        try check.double("MODEL.ANCHOR_GENERATOR.OFFSET", a.offset, "a number in [0, 1)", ok: a.offset >= 0 && a.offset < 1)
        try check.double("MODEL.PROPOSAL_GENERATOR.MIN_SIZE", m.proposalGenerator.minSize, "a finite number >= 0",
                         ok: m.proposalGenerator.minSize.isFinite && m.proposalGenerator.minSize >= 0)

        // RPN.
        let rpn = m.rpn
        try check.features("MODEL.RPN.IN_FEATURES", rpn.inFeatures, consecutive: false)
        try check.int("MODEL.RPN.PRE_NMS_TOPK_TEST", rpn.preNMSTopKTest, 1...Limits.topK, "1 to \(Limits.topK)")
        try check.int("MODEL.RPN.POST_NMS_TOPK_TEST", rpn.postNMSTopKTest, 1...Limits.topK, "1 to \(Limits.topK)")
        try check.fraction("MODEL.RPN.NMS_THRESH", rpn.nmsThresh)
        try check.boxRegWeights("MODEL.RPN.BBOX_REG_WEIGHTS", rpn.bboxRegWeights)
        try check.ints("MODEL.RPN.CONV_DIMS", rpn.convDims, count: 1...Limits.layers,
                       "1 to \(Limits.layers) channel counts, each -1 (as the input) or 1 to \(Limits.channels)") {
            $0 == -1 || (1...Limits.channels).contains($0)
        }

        // StandardROIHeads and the box head.
        let heads = m.roiHeads
        try check.int("MODEL.ROI_HEADS.NUM_CLASSES", heads.numClasses, 1...Limits.classes, "1 to \(Limits.classes)")
        try check.features("MODEL.ROI_HEADS.IN_FEATURES", heads.inFeatures, consecutive: true)
        try check.fraction("MODEL.ROI_HEADS.SCORE_THRESH_TEST", heads.scoreThreshTest)
        try check.fraction("MODEL.ROI_HEADS.NMS_THRESH_TEST", heads.nmsThreshTest)
        let box = m.roiBoxHead
        try check.int("MODEL.ROI_BOX_HEAD.NUM_FC", box.numFC, 0...Limits.layers, "0 to \(Limits.layers)")
        try check.int("MODEL.ROI_BOX_HEAD.FC_DIM", box.fcDim, 1...Limits.channels, "1 to \(Limits.channels)")
        try check.int("MODEL.ROI_BOX_HEAD.NUM_CONV", box.numConv, 0...Limits.layers, "0 to \(Limits.layers)")
        try check.int("MODEL.ROI_BOX_HEAD.CONV_DIM", box.convDim, 1...Limits.channels, "1 to \(Limits.channels)")
        try check.pooler("MODEL.ROI_BOX_HEAD", resolution: box.poolerResolution, samplingRatio: box.poolerSamplingRatio)
        try check.boxRegWeights("MODEL.ROI_BOX_HEAD.BBOX_REG_WEIGHTS", box.bboxRegWeights)
        try check.pooledSize("MODEL.RPN.POST_NMS_TOPK_TEST", boxes: rpn.postNMSTopKTest, channels: m.fpn.outChannels,
                             resolution: box.poolerResolution, head: "MODEL.ROI_BOX_HEAD")

        // The mask and keypoint heads pool at most DETECTIONS_PER_IMAGE boxes; a negative value keeps
        // every box per-class NMS leaves, up to POST_NMS_TOPK_TEST x NUM_CLASSES.
        let detections = test.detectionsPerImage >= 0 ? test.detectionsPerImage
            : rpn.postNMSTopKTest.multipliedReportingOverflow(by: heads.numClasses).partialValue
        if m.maskOn {
            let mask = m.roiMaskHead
            try check.int("MODEL.ROI_MASK_HEAD.NUM_CONV", mask.numConv, 0...Limits.layers, "0 to \(Limits.layers)")
            try check.int("MODEL.ROI_MASK_HEAD.CONV_DIM", mask.convDim, 1...Limits.channels, "1 to \(Limits.channels)")
            try check.pooler("MODEL.ROI_MASK_HEAD", resolution: mask.poolerResolution, samplingRatio: mask.poolerSamplingRatio)
            try check.pooledSize("TEST.DETECTIONS_PER_IMAGE", boxes: detections, channels: m.fpn.outChannels,
                                 resolution: mask.poolerResolution, head: "MODEL.ROI_MASK_HEAD")
        }
        if m.keypointOn {
            let kp = m.roiKeypointHead
            try check.int("MODEL.ROI_KEYPOINT_HEAD.NUM_KEYPOINTS", kp.numKeypoints, 1...Limits.keypoints, "1 to \(Limits.keypoints)")
            try check.ints("MODEL.ROI_KEYPOINT_HEAD.CONV_DIMS", kp.convDims, count: 0...Limits.layers,
                           "at most \(Limits.layers) channel counts, each 1 to \(Limits.channels)") {
                (1...Limits.channels).contains($0)
            }
            try check.pooler("MODEL.ROI_KEYPOINT_HEAD", resolution: kp.poolerResolution, samplingRatio: kp.poolerSamplingRatio)
            try check.pooledSize("TEST.DETECTIONS_PER_IMAGE", boxes: detections, channels: m.fpn.outChannels,
                                 resolution: kp.poolerResolution, head: "MODEL.ROI_KEYPOINT_HEAD")
        }
    }

    /// The checks of `validate`, each throwing `ConfigError.outOfRange` at `origin(key)`.
    private struct Check {
        let origin: (String) -> ConfigError.Location

        func fail(_ key: String, _ found: String, _ allowed: String) -> ConfigError {
            .outOfRange(origin(key), key: key, found: found, allowed: allowed)
        }

        func int(_ key: String, _ value: Int, _ range: ClosedRange<Int>, _ allowed: String, ok: Bool = true) throws {
            guard range.contains(value), ok else { throw fail(key, String(value), allowed) }
        }

        /// NaN fails every comparison, so `ok` written as comparisons rejects it.
        func double(_ key: String, _ value: Double, _ allowed: String, ok: Bool) throws {
            guard ok else { throw fail(key, String(value), allowed) }
        }

        /// NMS IoU thresholds and score thresholds.
        func fraction(_ key: String, _ value: Double) throws {
            try double(key, value, "a number in [0, 1]", ok: value >= 0 && value <= 1)
        }

        func doubles(_ key: String, _ values: [Double], count: ClosedRange<Int>, _ allowed: String,
                     each: (Double) -> Bool) throws {
            guard count.contains(values.count), values.allSatisfy(each) else {
                throw fail(key, ConfigValue.list(values.map(ConfigValue.double)).description, allowed)
            }
        }

        func ints(_ key: String, _ values: [Int], count: ClosedRange<Int>, _ allowed: String, each: (Int) -> Bool) throws {
            guard count.contains(values.count), values.allSatisfy(each) else {
                throw fail(key, ConfigValue.list(values.map(ConfigValue.int)).description, allowed)
            }
        }

        func doubleLists(_ key: String, _ lists: [[Double]], _ allowed: String, each: (Double) -> Bool) throws {
            let ok = (1...Limits.layers).contains(lists.count)
                && lists.allSatisfy { (1...Limits.layers).contains($0.count) && $0.allSatisfy(each) }
            guard ok else {
                let found = ConfigValue.list(lists.map { .list($0.map(ConfigValue.double)) }).description
                throw fail(key, found, allowed)
            }
        }

        /// `Box2BoxTransform`: (wx, wy, ww, wh) divide the deltas.
        func boxRegWeights(_ key: String, _ weights: [Double]) throws {
            try doubles(key, weights, count: 4...4, "4 positive finite numbers (wx, wy, ww, wh)") { $0.isFinite && $0 > 0 }
        }

        /// Names the backbone produces, each once; for a `ROIPooler` (`consecutive`) finest first
        /// with each stride twice the last, as its level assignment assumes.
        func features(_ key: String, _ names: [String], consecutive: Bool) throws {
            let found = ConfigValue.list(names.map(ConfigValue.string)).description
            let known = RCNNConfig.featureStrides.map(\.key)
            let strides = names.compactMap { name in RCNNConfig.featureStrides.first { $0.key == name }?.value }
            guard !names.isEmpty, strides.count == names.count, Set(names).count == names.count else {
                throw fail(key, found, "a non-empty list of distinct backbone features (\(known.joined(separator: ", ")))")
            }
            if consecutive, zip(strides, strides.dropFirst()).contains(where: { $1 != 2 * $0 }) {
                throw fail(key, found, "consecutive levels, finest first (e.g. ['p2', 'p3', 'p4', 'p5'])")
            }
        }

        /// `ROIPooler`: output R x R, sampling ratio 0 (adaptive, ceil(roi size / R)) or a fixed count.
        func pooler(_ head: String, resolution: Int, samplingRatio: Int) throws {
            try int("\(head).POOLER_RESOLUTION", resolution, 1...Limits.poolerResolution, "1 to \(Limits.poolerResolution)")
            try int("\(head).POOLER_SAMPLING_RATIO", samplingRatio, 0...Limits.samplingRatio,
                    "0 (adaptive) to \(Limits.samplingRatio)")
        }

        /// The pooler's output `[boxes, channels, R, R]` fits `Limits.pooledScalars` (a product that
        /// overflows does not).
        func pooledSize(_ key: String, boxes: Int, channels: Int, resolution: Int, head: String) throws {
            var scalars = boxes, overflow = false
            for factor in [channels, resolution, resolution] where !overflow {
                (scalars, overflow) = scalars.multipliedReportingOverflow(by: factor)
            }
            guard !overflow, scalars <= Limits.pooledScalars else {
                throw fail(key, String(boxes), "small enough that \(head)'s pooler output (\(boxes) x MODEL.FPN.OUT_CHANNELS \(channels) x "
                           + "\(resolution) x \(resolution) floats) stays within \(Limits.pooledScalars) floats (4 GiB)")
            }
        }
    }
}
