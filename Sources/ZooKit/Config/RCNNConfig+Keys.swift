import Foundation

extension RCNNConfig {
    /// Reads a detectron2 YAML config (with its `_BASE_` chain) over `RCNNConfig.defaults`.
    ///
    /// Keys the engine does not read (SOLVER, DATASETS, ...) are accepted and ignored, as are
    /// keys of other projects; a key the engine reads with a value of the wrong type is a
    /// `ConfigError` naming the file, key, line and column, and so is a value out of the range
    /// detectron2 accepts (`validate()`), and a value (an empty `INPUT:`) where detectron2 holds a
    /// section the engine reads.
    public static func load(contentsOf url: URL) throws -> RCNNConfig {
        let tree = try ConfigYAML.loadWithBase(url)
        var config = RCNNConfig.defaults
        var locations: [String: ConfigError.Location] = [:]
        for key in engineKeys {
            let path = key.split(separator: ".").map(String.init)
            // yacs refuses a value over a section of its defaults rather than reset the section.
            if let (section, found, location) = tree.valueInPlaceOfSection(along: path) {
                throw ConfigYAML.replacedSection(section, by: found, at: location)
            }
            guard let field = fields[key], let (value, location) = tree.leaf(at: path[...]) else { continue }
            try field.assign(value, to: &config, key: key, at: location)
            locations[key] = location
        }
        // A key the file does not set holds detectron2's default; it can still be out of range
        // next to the file's values (a head turned on), so the error names the file.
        let file = url.standardizedFileURL.path
        try config.validate { locations[$0] ?? ConfigError.Location(file: file) }
        return config
    }

    /// The YAML file at `url` and the `_BASE_` files it includes, nearest first: the files
    /// `load(contentsOf:)` reads (as far as they can be read; `load` reports what stops the chain).
    public static func files(of url: URL) -> [URL] {
        ConfigYAML.fileChain(url)
    }

    /// This config with `overrides` applied, keyed by dotted detectron2 names
    /// (`"MODEL.ROI_HEADS.NUM_CLASSES": .int(3)`), as the index carries per-entry settings.
    /// A key the engine does not read, a value of the wrong type, or a result out of the range
    /// detectron2 accepts (`validate()`) is a `ConfigError`. Errors name `source` as the place of
    /// an overridden key, and `base` (where this config came from: its YAML file, say) as that of
    /// any other key a changed value puts out of range.
    public func applying(_ overrides: [String: ConfigValue], source: String = "override",
                         base: String = "config") throws -> RCNNConfig {
        var config = self
        let location = ConfigError.Location(file: source)
        for key in overrides.keys.sorted() {
            guard let value = overrides[key] else { continue }
            guard let field = Self.fields[key] else { throw ConfigError.unknownKey(location, key: key) }
            // yacs decodes string overrides (`merge_from_list`) with literal_eval too.
            let decoded: ConfigValue
            if case let .string(s) = value {
                decoded = try ConfigValue.decodingPythonLiteral(s, key: key, at: location)
            } else {
                decoded = value
            }
            try field.assign(decoded, to: &config, key: key, at: location)
        }
        try config.validate { overrides[$0] == nil ? ConfigError.Location(file: base) : location }
        return config
    }

    /// Every dotted key the engine reads.
    public static var engineKeys: [String] { fields.keys.sorted() }

    /// How one key is stored: its type and where it lives in `RCNNConfig`.
    enum Field {
        case bool(WritableKeyPath<RCNNConfig, Bool>)
        case int(WritableKeyPath<RCNNConfig, Int>)
        case double(WritableKeyPath<RCNNConfig, Double>)
        case string(WritableKeyPath<RCNNConfig, String>)
        case strings(WritableKeyPath<RCNNConfig, [String]>)
        case ints(WritableKeyPath<RCNNConfig, [Int]>)
        case doubles(WritableKeyPath<RCNNConfig, [Double]>)
        case doubleLists(WritableKeyPath<RCNNConfig, [[Double]]>)

        func assign(_ value: ConfigValue, to config: inout RCNNConfig, key: String, at location: ConfigError.Location) throws {
            func fail(_ expected: String) -> ConfigError {
                .wrongType(location, key: key, expected: expected, found: value.description)
            }
            switch self {
            case let .bool(path):
                guard case let .bool(b) = value else { throw fail("True or False") }
                config[keyPath: path] = b
            case let .int(path):
                guard case let .int(i) = value else { throw fail("an integer") }
                config[keyPath: path] = i
            case let .double(path):
                guard let d = Self.number(value) else { throw fail("a number") }
                config[keyPath: path] = d
            case let .string(path):
                guard case let .string(s) = value else { throw fail("a string") }
                config[keyPath: path] = s
            case let .strings(path):
                guard case let .list(items) = value else { throw fail("a list of strings") }
                config[keyPath: path] = try items.map { item -> String in
                    guard case let .string(s) = item else { throw fail("a list of strings") }
                    return s
                }
            case let .ints(path):
                guard case let .list(items) = value else { throw fail("a list of integers") }
                config[keyPath: path] = try items.map { item -> Int in
                    guard case let .int(i) = item else { throw fail("a list of integers") }
                    return i
                }
            case let .doubles(path):
                guard case let .list(items) = value else { throw fail("a list of numbers") }
                config[keyPath: path] = try items.map { item -> Double in
                    guard let d = Self.number(item) else { throw fail("a list of numbers") }
                    return d
                }
            case let .doubleLists(path):
                guard case let .list(outer) = value else { throw fail("a list of lists of numbers") }
                config[keyPath: path] = try outer.map { inner -> [Double] in
                    guard case let .list(items) = inner else { throw fail("a list of lists of numbers") }
                    return try items.map { item -> Double in
                        guard let d = Self.number(item) else { throw fail("a list of lists of numbers") }
                        return d
                    }
                }
            }
        }

        /// Integers are accepted where detectron2 holds a float (`OFFSET: 0`), a widening yacs'
        /// strict type check would refuse.
        private static func number(_ v: ConfigValue) -> Double? {
            switch v {
            case let .int(i): return Double(i)
            case let .double(d): return d
            default: return nil
            }
        }
    }

    /// The keys the engine reads, by detectron2's dotted name.
    static let fields: [String: Field] = [
        "MODEL.META_ARCHITECTURE": .string(\.model.metaArchitecture),
        "MODEL.MASK_ON": .bool(\.model.maskOn),
        "MODEL.KEYPOINT_ON": .bool(\.model.keypointOn),
        "MODEL.PIXEL_MEAN": .doubles(\.model.pixelMean),
        "MODEL.PIXEL_STD": .doubles(\.model.pixelStd),
        "MODEL.WEIGHTS": .string(\.model.weights),
        "MODEL.BACKBONE.NAME": .string(\.model.backbone.name),
        "MODEL.RESNETS.DEPTH": .int(\.model.resnets.depth),
        "MODEL.RESNETS.OUT_FEATURES": .strings(\.model.resnets.outFeatures),
        "MODEL.RESNETS.NUM_GROUPS": .int(\.model.resnets.numGroups),
        "MODEL.RESNETS.WIDTH_PER_GROUP": .int(\.model.resnets.widthPerGroup),
        "MODEL.RESNETS.STRIDE_IN_1X1": .bool(\.model.resnets.strideIn1x1),
        "MODEL.RESNETS.RES5_DILATION": .int(\.model.resnets.res5Dilation),
        "MODEL.RESNETS.RES2_OUT_CHANNELS": .int(\.model.resnets.res2OutChannels),
        "MODEL.RESNETS.STEM_OUT_CHANNELS": .int(\.model.resnets.stemOutChannels),
        "MODEL.RESNETS.NORM": .string(\.model.resnets.norm),
        "MODEL.FPN.IN_FEATURES": .strings(\.model.fpn.inFeatures),
        "MODEL.FPN.OUT_CHANNELS": .int(\.model.fpn.outChannels),
        "MODEL.FPN.FUSE_TYPE": .string(\.model.fpn.fuseType),
        "MODEL.FPN.NORM": .string(\.model.fpn.norm),
        "MODEL.ANCHOR_GENERATOR.NAME": .string(\.model.anchorGenerator.name),
        "MODEL.ANCHOR_GENERATOR.SIZES": .doubleLists(\.model.anchorGenerator.sizes),
        "MODEL.ANCHOR_GENERATOR.ASPECT_RATIOS": .doubleLists(\.model.anchorGenerator.aspectRatios),
        "MODEL.ANCHOR_GENERATOR.OFFSET": .double(\.model.anchorGenerator.offset),
        "MODEL.PROPOSAL_GENERATOR.NAME": .string(\.model.proposalGenerator.name),
        "MODEL.PROPOSAL_GENERATOR.MIN_SIZE": .double(\.model.proposalGenerator.minSize),
        "MODEL.RPN.HEAD_NAME": .string(\.model.rpn.headName),
        "MODEL.RPN.IN_FEATURES": .strings(\.model.rpn.inFeatures),
        "MODEL.RPN.PRE_NMS_TOPK_TEST": .int(\.model.rpn.preNMSTopKTest),
        "MODEL.RPN.POST_NMS_TOPK_TEST": .int(\.model.rpn.postNMSTopKTest),
        "MODEL.RPN.NMS_THRESH": .double(\.model.rpn.nmsThresh),
        "MODEL.RPN.BBOX_REG_WEIGHTS": .doubles(\.model.rpn.bboxRegWeights),
        "MODEL.RPN.CONV_DIMS": .ints(\.model.rpn.convDims),
        "MODEL.ROI_HEADS.NAME": .string(\.model.roiHeads.name),
        "MODEL.ROI_HEADS.NUM_CLASSES": .int(\.model.roiHeads.numClasses),
        "MODEL.ROI_HEADS.IN_FEATURES": .strings(\.model.roiHeads.inFeatures),
        "MODEL.ROI_HEADS.SCORE_THRESH_TEST": .double(\.model.roiHeads.scoreThreshTest),
        "MODEL.ROI_HEADS.NMS_THRESH_TEST": .double(\.model.roiHeads.nmsThreshTest),
        "MODEL.ROI_BOX_HEAD.NAME": .string(\.model.roiBoxHead.name),
        "MODEL.ROI_BOX_HEAD.NUM_FC": .int(\.model.roiBoxHead.numFC),
        "MODEL.ROI_BOX_HEAD.FC_DIM": .int(\.model.roiBoxHead.fcDim),
        "MODEL.ROI_BOX_HEAD.NUM_CONV": .int(\.model.roiBoxHead.numConv),
        "MODEL.ROI_BOX_HEAD.CONV_DIM": .int(\.model.roiBoxHead.convDim),
        "MODEL.ROI_BOX_HEAD.NORM": .string(\.model.roiBoxHead.norm),
        "MODEL.ROI_BOX_HEAD.POOLER_RESOLUTION": .int(\.model.roiBoxHead.poolerResolution),
        "MODEL.ROI_BOX_HEAD.POOLER_SAMPLING_RATIO": .int(\.model.roiBoxHead.poolerSamplingRatio),
        "MODEL.ROI_BOX_HEAD.POOLER_TYPE": .string(\.model.roiBoxHead.poolerType),
        "MODEL.ROI_BOX_HEAD.BBOX_REG_WEIGHTS": .doubles(\.model.roiBoxHead.bboxRegWeights),
        "MODEL.ROI_BOX_HEAD.CLS_AGNOSTIC_BBOX_REG": .bool(\.model.roiBoxHead.clsAgnosticBBoxReg),
        "MODEL.ROI_MASK_HEAD.NAME": .string(\.model.roiMaskHead.name),
        "MODEL.ROI_MASK_HEAD.NUM_CONV": .int(\.model.roiMaskHead.numConv),
        "MODEL.ROI_MASK_HEAD.CONV_DIM": .int(\.model.roiMaskHead.convDim),
        "MODEL.ROI_MASK_HEAD.NORM": .string(\.model.roiMaskHead.norm),
        "MODEL.ROI_MASK_HEAD.POOLER_RESOLUTION": .int(\.model.roiMaskHead.poolerResolution),
        "MODEL.ROI_MASK_HEAD.POOLER_SAMPLING_RATIO": .int(\.model.roiMaskHead.poolerSamplingRatio),
        "MODEL.ROI_MASK_HEAD.POOLER_TYPE": .string(\.model.roiMaskHead.poolerType),
        "MODEL.ROI_MASK_HEAD.CLS_AGNOSTIC_MASK": .bool(\.model.roiMaskHead.clsAgnosticMask),
        "MODEL.ROI_KEYPOINT_HEAD.NAME": .string(\.model.roiKeypointHead.name),
        "MODEL.ROI_KEYPOINT_HEAD.NUM_KEYPOINTS": .int(\.model.roiKeypointHead.numKeypoints),
        "MODEL.ROI_KEYPOINT_HEAD.CONV_DIMS": .ints(\.model.roiKeypointHead.convDims),
        "MODEL.ROI_KEYPOINT_HEAD.POOLER_RESOLUTION": .int(\.model.roiKeypointHead.poolerResolution),
        "MODEL.ROI_KEYPOINT_HEAD.POOLER_SAMPLING_RATIO": .int(\.model.roiKeypointHead.poolerSamplingRatio),
        "MODEL.ROI_KEYPOINT_HEAD.POOLER_TYPE": .string(\.model.roiKeypointHead.poolerType),
        "INPUT.MIN_SIZE_TEST": .int(\.input.minSizeTest),
        "INPUT.MAX_SIZE_TEST": .int(\.input.maxSizeTest),
        "INPUT.FORMAT": .string(\.input.format),
        "TEST.DETECTIONS_PER_IMAGE": .int(\.test.detectionsPerImage),
    ]
}
