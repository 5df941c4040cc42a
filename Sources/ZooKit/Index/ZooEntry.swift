import Foundation

/// One downloadable model of the index: a detectron2 model zoo entry, a Detectron (Caffe2)
/// baseline, an ImageNet-pretrained backbone, or a user's own model from `--index`/`ZOO_INDEX`.
public struct ZooEntry: Sendable, Equatable {
    /// What sort of entry this is.
    public enum Kind: String, CaseIterable, Sendable {
        /// A model of detectron2's `model_zoo.py` (has a detectron2 config).
        case model
        /// A Detectron (Caffe2) COCO baseline of detectron2's `checkpoint/catalog.py`.
        case caffe2Baseline = "caffe2_baseline"
        /// An ImageNet-pretrained backbone listed in MODEL_ZOO.md.
        case backbone
    }

    /// How the model is built (facts from the config and MODEL_ZOO.md).
    public struct Architecture: Sendable, Equatable {
        /// `MODEL.META_ARCHITECTURE`, e.g. "GeneralizedRCNN"; nil where not known.
        public var metaArchitecture: String?
        /// The backbone, e.g. "R-50", "X-101-32x8d".
        public var backbone: String?
        /// ResNet depth (50, 101, 152), nil for RegNets.
        public var depth: Int?
        /// "FPN", "C4" or "DC5".
        public var variant: String?
        /// Heads in order, e.g. ["rpn", "box", "mask"].
        public var heads: [String]

        public init(metaArchitecture: String? = nil, backbone: String? = nil, depth: Int? = nil, variant: String? = nil, heads: [String] = []) {
            self.metaArchitecture = metaArchitecture
            self.backbone = backbone
            self.depth = depth
            self.variant = variant
            self.heads = heads
        }
    }

    /// "137781281" for zoo models; a stable name for backbones ("MSRA/R-50") and Caffe2
    /// baselines ("e2e_mask_rcnn_R-50-FPN_1x").
    public var id: String
    /// What sort of entry this is.
    public var kind: Kind
    /// detectron2 config path relative to `configs/` ("Detectron1-Comparisons/mask_rcnn_R_50_FPN_noaug_1x.yaml");
    /// for backbones and Caffe2 baselines the `MODEL.WEIGHTS` string detectron2 accepts
    /// ("detectron2://ImageNetPretrained/MSRA/R-50.pkl", "catalog://Caffe2Detectron/COCO/...").
    public var config: String
    /// Short name: the config's file name without extension, or the weights file name.
    public var name: String
    /// "detection", "proposals", "instance_segmentation", "keypoints", "panoptic_segmentation", "backbone", ...
    public var task: String
    /// Key into the index's "datasets" table.
    public var dataset: String?
    /// How the model is built.
    public var architecture: Architecture
    /// Metrics as MODEL_ZOO.md's tables show them, by gen_html_table field name
    /// (`box_AP` 40.2, `inference_speed` 0.038, `lr_sched` "3x", `train_speed` "N/A", ...).
    public var metrics: [String: IndexValue]
    /// Full https URL of the weights file.
    public var weightsURL: String
    /// The 6 hex digits of the md5 the file name carries (`model_final_f10217.pkl`), nil where it has none.
    public var md5Prefix: String?
    /// The training `metrics.json` URL, where published.
    public var metricsURL: String?
    /// How the weights file names and stores its tensors.
    public var layout: CheckpointLayout
    /// Free-form facts (e.g. "needs precomputed proposals").
    public var notes: [String]
    /// Resolved detectron2 config values (after the `_BASE_` chain) that differ from
    /// `detectron2/config/defaults.py`, by dotted key: `"MODEL.MASK_ON": true`.
    /// Empty when the defaults apply throughout or when not recorded (see `hasInferenceSettings`).
    public var inference: [String: IndexValue]
    /// Whether `inference` was recorded for this entry (false for `.py` LazyConfigs, Caffe2 baselines, backbones).
    public var hasInferenceSettings: Bool
    /// Where the entry comes from: "embedded" or the path of a user's index file.
    public var source: String

    /// Where this entry's inference settings are, for errors: `FILE, entry ID, "inference"`.
    var inferenceLabel: String {
        "\(source == "embedded" ? "the embedded index" : source), entry \(id), \"inference\""
    }

    /// The weights file name (last URL component).
    public var weightsFileName: String {
        weightsURL.split(separator: "/").last.map(String.init) ?? weightsURL
    }

    public init(id: String, kind: Kind = .model, config: String, name: String? = nil, task: String = "", dataset: String? = nil,
                architecture: Architecture = Architecture(), metrics: [String: IndexValue] = [:], weightsURL: String,
                md5Prefix: String? = nil, metricsURL: String? = nil, layout: CheckpointLayout = .detectron2, notes: [String] = [],
                inference: [String: IndexValue] = [:], hasInferenceSettings: Bool = false, source: String = "embedded") {
        self.id = id
        self.kind = kind
        self.config = config
        self.name = name ?? ZooEntry.defaultName(config: config)
        self.task = task
        self.dataset = dataset
        self.architecture = architecture
        self.metrics = metrics
        self.weightsURL = weightsURL
        self.md5Prefix = md5Prefix
        self.metricsURL = metricsURL
        self.layout = layout
        self.notes = notes
        self.inference = inference
        self.hasInferenceSettings = hasInferenceSettings
        self.source = source
    }

    /// The config's file name without its extension ("mask_rcnn_R_50_FPN_3x").
    static func defaultName(config: String) -> String {
        let last = config.split(separator: "/").last.map(String.init) ?? config
        for ext in [".yaml", ".py"] where last.hasSuffix(ext) {
            return String(last.dropLast(ext.count))
        }
        return last
    }

    /// The md5 prefix a file name like `model_final_f10217.pkl` carries: the 6 hex digits
    /// between the last `_` and the extension.
    public static func md5Prefix(fromFileName name: String) -> String? {
        guard let dot = name.lastIndex(of: "."), let underscore = name[..<dot].lastIndex(of: "_") else { return nil }
        let hex = name[name.index(after: underscore)..<dot]
        guard hex.count == 6, hex.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
        return String(hex)
    }
}
