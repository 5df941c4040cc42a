import Foundation

/// Class names, colours and keypoint facts of a dataset, as detectron2's
/// `detectron2/data/datasets/builtin_meta.py` (and friends) define them.
public struct DatasetMetadata: Sendable {
    /// The index's key ("coco_2017", "keypoints_coco_2017", "tiny_kites", ...).
    public var name: String
    /// One line saying what the dataset is.
    public var description: String
    /// Class names in contiguous-id order (the model's class index).
    public var thingClasses: [String]
    /// One RGB colour per thing class, where detectron2 defines them.
    public var thingColors: [[UInt8]]?
    /// Stuff classes of panoptic/semantic datasets.
    public var stuffClasses: [String]?
    /// One RGB colour per stuff class, where defined.
    public var stuffColors: [[UInt8]]?
    /// Keypoint names in the model's keypoint order.
    public var keypointNames: [String]?
    /// Pairs of keypoints swapped by a horizontal flip.
    public var keypointFlipMap: [(String, String)]?
    /// Lines the visualizer draws between keypoints: (name_a, name_b, RGB).
    public var keypointConnectionRules: [(String, String, [UInt8])]?

    public init(name: String, description: String = "", thingClasses: [String], thingColors: [[UInt8]]? = nil,
                stuffClasses: [String]? = nil, stuffColors: [[UInt8]]? = nil, keypointNames: [String]? = nil,
                keypointFlipMap: [(String, String)]? = nil, keypointConnectionRules: [(String, String, [UInt8])]? = nil) {
        self.name = name
        self.description = description
        self.thingClasses = thingClasses
        self.thingColors = thingColors
        self.stuffClasses = stuffClasses
        self.stuffColors = stuffColors
        self.keypointNames = keypointNames
        self.keypointFlipMap = keypointFlipMap
        self.keypointConnectionRules = keypointConnectionRules
    }

    static let knownKeys: Set<String> = [
        "description", "thing_classes", "thing_colors", "stuff_classes", "stuff_colors", "keypoint_names",
        "keypoint_flip_map", "keypoint_connection_rules",
    ]

    /// Reads one member of the index's "datasets" object.
    init(name: String, json: IndexValue, source: String) throws {
        func fail(_ field: String, _ reason: String) -> IndexError {
            .malformedEntry(source: source, entry: "datasets.\(name)", field: field, reason: reason)
        }
        guard let members = json.objectValue else { throw fail("-", "a dataset must be a JSON object") }
        for (key, _) in members where !DatasetMetadata.knownKeys.contains(key) {
            throw fail(key, "unknown field (known: \(DatasetMetadata.knownKeys.sorted().joined(separator: ", ")))")
        }
        func strings(_ key: String) throws -> [String]? {
            guard let v = json[key], v != .null else { return nil }
            guard let items = v.arrayValue else { throw fail(key, "must be an array of strings") }
            return try items.map { item in
                guard let s = item.stringValue else { throw fail(key, "must be an array of strings, found \(item)") }
                return s
            }
        }
        func rgb(_ value: IndexValue, _ key: String) throws -> [UInt8] {
            guard let items = value.arrayValue, items.count == 3 else { throw fail(key, "a colour must be [r, g, b], found \(value)") }
            return try items.map { c in
                guard let x = c.intValue, (0...255).contains(x) else { throw fail(key, "colour components must be 0...255, found \(c)") }
                return UInt8(x)
            }
        }
        func colors(_ key: String) throws -> [[UInt8]]? {
            guard let v = json[key], v != .null else { return nil }
            guard let items = v.arrayValue else { throw fail(key, "must be an array of [r, g, b]") }
            return try items.map { try rgb($0, key) }
        }
        guard let things = try strings("thing_classes") else { throw fail("thing_classes", "missing; it must be an array of strings") }
        let thingColors = try colors("thing_colors")
        if let thingColors, thingColors.count != things.count {
            throw fail("thing_colors", "has \(thingColors.count) colours for \(things.count) thing_classes")
        }
        let keypoints = try strings("keypoint_names")
        var flipMap: [(String, String)]?
        if let v = json["keypoint_flip_map"], v != .null {
            guard let pairs = v.arrayValue else { throw fail("keypoint_flip_map", "must be an array of [name, name]") }
            flipMap = try pairs.map { p in
                guard let ab = p.arrayValue, ab.count == 2, let a = ab[0].stringValue, let b = ab[1].stringValue else {
                    throw fail("keypoint_flip_map", "each pair must be [name, name], found \(p)")
                }
                guard let keypoints, keypoints.contains(a), keypoints.contains(b) else {
                    throw fail("keypoint_flip_map", "names \(a), \(b) must be among keypoint_names")
                }
                return (a, b)
            }
        }
        var rules: [(String, String, [UInt8])]?
        if let v = json["keypoint_connection_rules"], v != .null {
            guard let items = v.arrayValue else { throw fail("keypoint_connection_rules", "must be an array of [name_a, name_b, [r, g, b]]") }
            rules = try items.map { r in
                guard let abc = r.arrayValue, abc.count == 3, let a = abc[0].stringValue, let b = abc[1].stringValue else {
                    throw fail("keypoint_connection_rules", "each rule must be [name_a, name_b, [r, g, b]], found \(r)")
                }
                guard let keypoints, keypoints.contains(a), keypoints.contains(b) else {
                    throw fail("keypoint_connection_rules", "names \(a), \(b) must be among keypoint_names")
                }
                return (a, b, try rgb(abc[2], "keypoint_connection_rules"))
            }
        }
        self.init(name: name, description: json["description"]?.stringValue ?? "", thingClasses: things, thingColors: thingColors,
                  stuffClasses: try strings("stuff_classes"), stuffColors: try colors("stuff_colors"), keypointNames: keypoints,
                  keypointFlipMap: flipMap, keypointConnectionRules: rules)
    }
}
