import Foundation

extension ZooEntry {
    static let knownKeys: Set<String> = [
        "id", "kind", "config", "name", "task", "dataset", "architecture", "metrics", "weights_url",
        "md5_prefix", "metrics_url", "layout", "notes", "inference",
    ]

    /// Reads one entry of an index file's "entries" array; every problem names the entry and the field.
    init(json: IndexValue, position: Int, source: String) throws {
        let label0 = "entries[\(position)]"
        guard let members = json.objectValue else {
            throw IndexError.malformedEntry(source: source, entry: label0, field: "-", reason: "an entry must be a JSON object")
        }
        let idValue = json["id"]
        let label = idValue?.stringValue.map { "\(label0) (id \($0))" } ?? label0
        func fail(_ field: String, _ reason: String) -> IndexError {
            .malformedEntry(source: source, entry: label, field: field, reason: reason)
        }
        for (key, _) in members where !ZooEntry.knownKeys.contains(key) {
            throw fail(key, "unknown field (known: \(ZooEntry.knownKeys.sorted().joined(separator: ", ")))")
        }
        func string(_ key: String, required: Bool) throws -> String? {
            guard let v = json[key], v != .null else {
                if required { throw fail(key, "missing; it must be a string") }
                return nil
            }
            guard let s = v.stringValue else { throw fail(key, "must be a string, found \(v)") }
            if required && s.isEmpty { throw fail(key, "must not be empty") }
            return s
        }
        guard let id = try string("id", required: true), let config = try string("config", required: true),
              let weightsURL = try string("weights_url", required: true) else {
            throw fail("id", "missing")
        }
        guard ["https://", "http://", "file://"].contains(where: { weightsURL.hasPrefix($0) }) else {
            throw fail("weights_url", "must be an https://, http:// or file:// URL, found \"\(weightsURL)\"")
        }
        var kind = Kind.model
        if let k = try string("kind", required: false) {
            guard let parsed = Kind(rawValue: k) else {
                throw fail("kind", "unknown kind \"\(k)\" (valid: \(Kind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            kind = parsed
        }
        var layout = CheckpointLayout.detectron2
        if let l = try string("layout", required: false) {
            guard let parsed = CheckpointLayout(rawValue: l) else {
                throw fail("layout", "unknown layout \"\(l)\" (valid: \(CheckpointLayout.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            layout = parsed
        }
        let md5 = try string("md5_prefix", required: false)
        if let md5, md5.count != 6 || !md5.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) {
            throw fail("md5_prefix", "must be 6 lowercase hex digits, found \"\(md5)\"")
        }
        var notes: [String] = []
        if let n = json["notes"], n != .null {
            guard let items = n.arrayValue else { throw fail("notes", "must be an array of strings") }
            for item in items {
                guard let s = item.stringValue else { throw fail("notes", "must be an array of strings, found \(item)") }
                notes.append(s)
            }
        }
        func dictionary(_ key: String) throws -> [String: IndexValue]? {
            guard let v = json[key], v != .null else { return nil }
            guard let o = v.objectValue else { throw fail(key, "must be a JSON object") }
            var out: [String: IndexValue] = [:]
            for (k, value) in o {
                if case .object = value { throw fail("\(key).\(k)", "must be a number, string, boolean or array") }
                out[k] = value
            }
            return out
        }
        let metrics = try dictionary("metrics") ?? [:]
        for (field, value) in metrics {
            switch value {
            case .number, .string: break
            default: throw fail("metrics.\(field)", "must be a number or a string, found \(value)")
            }
        }
        let inference = try dictionary("inference")
        var architecture = Architecture()
        if let a = json["architecture"], a != .null {
            guard a.objectValue != nil else { throw fail("architecture", "must be a JSON object") }
            func archString(_ key: String) throws -> String? {
                guard let v = a[key], v != .null else { return nil }
                guard let s = v.stringValue else { throw fail("architecture.\(key)", "must be a string, found \(v)") }
                return s
            }
            architecture.metaArchitecture = try archString("meta_architecture")
            architecture.backbone = try archString("backbone")
            architecture.variant = try archString("variant")
            if let d = a["depth"], d != .null {
                guard let depth = d.intValue else { throw fail("architecture.depth", "must be a whole number, found \(d)") }
                architecture.depth = depth
            }
            if let h = a["heads"], h != .null {
                guard let items = h.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else {
                    throw fail("architecture.heads", "must be an array of strings")
                }
                architecture.heads = items.compactMap(\.stringValue)
            }
        }
        self.init(
            id: id, kind: kind, config: config, name: try string("name", required: false),
            task: try string("task", required: false) ?? "", dataset: try string("dataset", required: false),
            architecture: architecture, metrics: metrics, weightsURL: weightsURL, md5Prefix: md5,
            metricsURL: try string("metrics_url", required: false), layout: layout, notes: notes,
            inference: inference ?? [:], hasInferenceSettings: inference != nil, source: source)
    }

    /// The entry as the index file writes it (`zoo info --json`, `zoo list --json`).
    public var json: IndexValue {
        var members: [(String, IndexValue)] = [
            ("id", .string(id)), ("kind", .string(kind.rawValue)), ("config", .string(config)), ("name", .string(name)),
            ("task", .string(task)), ("dataset", dataset.map(IndexValue.string) ?? .null),
        ]
        var arch: [(String, IndexValue)] = []
        if let m = architecture.metaArchitecture { arch.append(("meta_architecture", .string(m))) }
        if let b = architecture.backbone { arch.append(("backbone", .string(b))) }
        if let d = architecture.depth { arch.append(("depth", .number(Double(d)))) }
        if let v = architecture.variant { arch.append(("variant", .string(v))) }
        arch.append(("heads", .array(architecture.heads.map(IndexValue.string))))
        members.append(("architecture", .object(arch)))
        let orderedMetrics = metrics.keys.sorted { MetricField.sortKey($0) < MetricField.sortKey($1) }
        members.append(("metrics", .object(orderedMetrics.compactMap { k in metrics[k].map { (k, $0) } })))
        members.append(("weights_url", .string(weightsURL)))
        members.append(("md5_prefix", md5Prefix.map(IndexValue.string) ?? .null))
        members.append(("metrics_url", metricsURL.map(IndexValue.string) ?? .null))
        members.append(("layout", .string(layout.rawValue)))
        members.append(("notes", .array(notes.map(IndexValue.string))))
        if hasInferenceSettings {
            members.append(("inference", .object(inference.keys.sorted().compactMap { k in inference[k].map { (k, $0) } })))
        }
        return .object(members)
    }
}
