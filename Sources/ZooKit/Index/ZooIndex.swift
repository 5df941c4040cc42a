import Foundation

/// Every model zoo entry `zoo` knows: the index compiled into the binary (a copy of the repository's
/// zoo-index.json), plus entries from `ZOO_INDEX=FILE` and `--index FILE`, which add or replace entries by id.
public struct ZooIndex: Sendable {
    /// All entries, embedded ones first in file order, then added user entries.
    public var entries: [ZooEntry]
    /// Dataset metadata by name (the index's top-level "datasets").
    public var datasets: [String: DatasetMetadata]

    public init(entries: [ZooEntry], datasets: [String: DatasetMetadata] = [:]) {
        self.entries = entries
        self.datasets = datasets
    }

    /// The embedded index, then the file named by the environment variable `ZOO_INDEX`, then `extraIndex`.
    public static func load(extraIndex: URL? = nil) throws -> ZooIndex {
        var index = try ZooIndex.parse(json: EmbeddedIndex.json, source: "embedded")
        if let env = ProcessInfo.processInfo.environment["ZOO_INDEX"], !env.isEmpty {
            index.merge(try ZooIndex.read(URL(fileURLWithPath: env)))
        }
        if let extraIndex {
            index.merge(try ZooIndex.read(extraIndex))
        }
        return index
    }

    /// Reads an index file (same format as zoo-index.json; "datasets" optional).
    public static func read(_ url: URL) throws -> ZooIndex {
        let text: String
        do {
            text = try ReadableFile.text(of: url)
        } catch {
            throw IndexError.cannotRead(path: url.path, reason: error.reason)
        }
        return try parse(json: text, source: url.path)
    }

    /// Parses index JSON text; `source` names it in errors.
    public static func parse(json text: String, source: String) throws -> ZooIndex {
        let root = try IndexValue.parse(text, source: source)
        guard root.objectValue != nil else {
            throw IndexError.malformedEntry(source: source, entry: "top level", field: "-", reason: "the index must be a JSON object with \"entries\"")
        }
        guard let items = root["entries"]?.arrayValue else {
            throw IndexError.malformedEntry(source: source, entry: "top level", field: "entries", reason: "missing or not an array")
        }
        var entries: [ZooEntry] = []
        var seen: Set<String> = []
        for (i, item) in items.enumerated() {
            let entry = try ZooEntry(json: item, position: i, source: source)
            guard seen.insert(entry.id).inserted else {
                throw IndexError.malformedEntry(source: source, entry: "entries[\(i)] (id \(entry.id))", field: "id", reason: "the id is used twice in this file")
            }
            entries.append(entry)
        }
        var datasets: [String: DatasetMetadata] = [:]
        if let d = root["datasets"], d != .null {
            guard let members = d.objectValue else {
                throw IndexError.malformedEntry(source: source, entry: "top level", field: "datasets", reason: "must be a JSON object")
            }
            for (name, value) in members {
                datasets[name] = try DatasetMetadata(name: name, json: value, source: source)
            }
        }
        return ZooIndex(entries: entries, datasets: datasets)
    }

    /// Adds `other`'s entries; an entry with an id already present replaces it in place. Datasets likewise.
    public mutating func merge(_ other: ZooIndex) {
        for entry in other.entries {
            if let i = entries.firstIndex(where: { $0.id == entry.id }) {
                entries[i] = entry
            } else {
                entries.append(entry)
            }
        }
        datasets.merge(other.datasets) { _, new in new }
    }

    /// The entry with this id, config path (with or without `.yaml`/`.py`), `MODEL.WEIGHTS` string,
    /// or unique short name; otherwise `IndexError.unknownModel` with close matches.
    public func lookup(_ idOrConfig: String) throws -> ZooEntry {
        let query = idOrConfig.trimmingCharacters(in: .whitespaces)
        if let e = entries.first(where: { $0.id == query }) { return e }
        if let e = entries.first(where: { $0.config == query }) { return e }
        let stripped = query.hasPrefix("configs/") ? String(query.dropFirst("configs/".count)) : query
        if let e = entries.first(where: { $0.config == stripped || ZooIndex.withoutExtension($0.config) == stripped }) { return e }
        let byName = entries.filter { $0.name == query }
        if byName.count == 1 { return byName[0] }
        if byName.count > 1 { throw IndexError.ambiguousModel(query: query, matches: byName.map { "\($0.id) \($0.config)" }) }
        throw IndexError.unknownModel(query: query, suggestions: suggestions(for: query))
    }

    /// The metadata of dataset `name`, or `IndexError.unknownDataset` listing the known ones.
    public func dataset(named name: String) throws -> DatasetMetadata {
        guard let d = datasets[name] else { throw IndexError.unknownDataset(name: name, valid: datasets.keys.sorted()) }
        return d
    }

    static func withoutExtension(_ config: String) -> String {
        for ext in [".yaml", ".py"] where config.hasSuffix(ext) { return String(config.dropLast(ext.count)) }
        return config
    }

    /// Up to 5 ids/configs closest to `query` (substring matches first, then by edit distance).
    func suggestions(for query: String) -> [String] {
        let q = query.lowercased()
        var scored: [(Int, String)] = []
        for e in entries {
            let candidates = [e.id, ZooIndex.withoutExtension(e.config), e.name]
            var best = Int.max
            for c in candidates {
                let lc = c.lowercased()
                let d = lc.contains(q) ? 0 : ZooIndex.editDistance(q, lc)
                best = min(best, d)
            }
            let limit = max(3, q.count / 3)
            if best <= limit { scored.append((best, e.kind == .model ? e.config : e.id)) }
        }
        return scored.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.prefix(5).map(\.1)
    }

    /// Levenshtein distance over characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
