import ArgumentParser
import Foundation
import ZooKit

/// `zoo info`: every fact of one entry.
struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Show every fact of one entry: metrics, URLs, checkpoint layout, inference settings, cache location.")

    @Argument(help: "A model id (137849600), config path (COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x.yaml) or unique name.")
    var model: String

    @Flag(help: "Print the entry as JSON.")
    var json = false

    @OptionGroup var index: IndexOptions

    func run() throws {
        let zooIndex = try index.load()
        let entry = try zooIndex.lookup(model)
        let cachePath = CacheSeam.cachePath(entry)
        if json {
            guard case .object(var members) = entry.json else { return }
            members.append(("cached", .bool(CacheSeam.isCached(entry))))
            members.append(("cache_path", cachePath.map(IndexValue.string) ?? .null))
            print(IndexValue.object(members).jsonText(indent: 2))
            return
        }
        var lines: [(String, String)] = [
            ("id", entry.id), ("config", entry.config), ("name", entry.name), ("kind", entry.kind.rawValue),
            ("task", entry.task), ("dataset", entry.dataset ?? "-"),
        ]
        let a = entry.architecture
        var arch: [String] = []
        if let m = a.metaArchitecture { arch.append(m) }
        if let b = a.backbone { arch.append(a.depth.map { "\(b) (depth \($0))" } ?? b) }
        if let v = a.variant { arch.append(v) }
        if !a.heads.isEmpty { arch.append("heads: " + a.heads.joined(separator: ", ")) }
        lines.append(("architecture", arch.isEmpty ? "-" : arch.joined(separator: "; ")))
        for field in MetricField.all {
            if let value = entry.metrics[field.name] { lines.append((field.name, field.format(value))) }
        }
        for (k, v) in entry.metrics.sorted(by: { $0.key < $1.key }) where !MetricField.all.contains(where: { $0.name == k }) {
            lines.append((k, v.description))
        }
        lines.append(("weights", entry.weightsURL))
        lines.append(("md5 prefix", entry.md5Prefix ?? "- (the file name carries none)"))
        lines.append(("metrics.json", entry.metricsURL ?? "-"))
        lines.append(("layout", entry.layout.rawValue))
        lines.append(("cached", CacheSeam.isCached(entry) ? "yes" : "no"))
        lines.append(("cache path", cachePath ?? "- (download cache not available in this build)"))
        lines.append(("source", entry.source))
        let width = lines.map(\.0.count).max() ?? 0
        for (k, v) in lines { print(k.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + displayText(v, limit: 1000)) }
        if !entry.notes.isEmpty {
            print("notes")
            for note in entry.notes { print("  - " + displayText(note, limit: 4000)) }
        }
        if entry.hasInferenceSettings {
            print("inference settings (differences from detectron2's defaults.py)")
            if entry.inference.isEmpty { print("  (none: every listed key has its default)") }
            for key in entry.inference.keys.sorted() {
                if let v = entry.inference[key] { print("  \(displayText(key)): \(displayText(v.description, limit: 1000))") }
            }
        } else {
            print("inference settings: not recorded for this entry")
        }
    }
}
