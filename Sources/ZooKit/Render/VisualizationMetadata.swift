/// An sRGB colour, one byte a channel, as detectron2's metadata writes `thing_colors`
/// and keypoint connection colours.
public struct RGBColor: Sendable, Equatable, Hashable {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(_ red: UInt8, _ green: UInt8, _ blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }
}

/// A line drawn between two visible keypoints, named as in detectron2's
/// `keypoint_connection_rules` (`("left_ear", "left_eye", (102, 204, 255))`).
public struct KeypointConnectionRule: Sendable, Equatable {
    /// Name of the first keypoint, one of `VisualizationMetadata.keypointNames`.
    public var from: String
    /// Name of the second keypoint.
    public var to: String
    /// Colour of the line.
    public var color: RGBColor

    public init(from: String, to: String, color: RGBColor) {
        self.from = from
        self.to = to
        self.color = color
    }
}

/// What `Visualizer` needs to know about a dataset: detectron2's `MetadataCatalog` entries
/// `thing_classes`, `thing_colors`, `keypoint_names` and `keypoint_connection_rules`.
public struct VisualizationMetadata: Sendable, Equatable {
    /// Class names by class index (`thing_classes`). When empty or too short, labels show the index.
    public var classNames: [String]
    /// Colours by class index (`thing_colors`); when nil, detectron2's colormap by class index.
    public var classColors: [RGBColor]?
    /// Keypoint names by keypoint index (`keypoint_names`); skeleton lines need them.
    public var keypointNames: [String]
    /// Lines between keypoints (`keypoint_connection_rules`).
    public var keypointConnectionRules: [KeypointConnectionRule]

    public init(
        classNames: [String] = [],
        classColors: [RGBColor]? = nil,
        keypointNames: [String] = [],
        keypointConnectionRules: [KeypointConnectionRule] = []
    ) {
        self.classNames = classNames
        self.classColors = classColors
        self.keypointNames = keypointNames
        self.keypointConnectionRules = keypointConnectionRules
    }
}
