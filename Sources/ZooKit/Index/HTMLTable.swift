import Foundation

/// detectron2's model zoo tables: the output of its `gen_html_table.py`, byte for byte.
///
/// `gen_html_table.py --config GLOB... --name NAME... --fields FIELD... [--base-dir DIR]`:
/// each glob matches config paths (relative to `configs/`, `*` not crossing `/`), each glob's matches
/// in sorted order, all globs' matches in argument order; one name per matched config, in row order.
public struct HTMLTable: Sendable {
    /// Output format.
    public enum Format: String, CaseIterable, Sendable {
        /// detectron2's HTML (what MODEL_ZOO.md holds).
        case html
        /// The same columns as a Markdown table.
        case markdown
    }

    /// The rows' entries, in order.
    public var entries: [ZooEntry]
    /// Each row's display name.
    public var names: [String]
    /// The metric columns.
    public var fields: [MetricField]
    /// Links to config files are made relative to this directory (see `link(for:)`).
    public var baseDir: String

    /// The default `--base-dir`: the detectron2 repository root as seen from gen_html_table.py,
    /// so links read `configs/COCO-Detection/...yaml`.
    public static let defaultBaseDir = "../../.."

    /// Selects the rows of a table as gen_html_table.py does; errors for a glob matching nothing,
    /// a count mismatch between names and matches, or an unknown field.
    public init(index: ZooIndex, configGlobs: [String], names: [String], fields: [String], baseDir: String = HTMLTable.defaultBaseDir) throws {
        let fields = try fields.map(MetricField.named)
        let candidates = index.entries.filter { $0.kind == .model || $0.config.hasSuffix(".yaml") || $0.config.hasSuffix(".py") }
        var rows: [ZooEntry] = []
        for pattern in configGlobs {
            let glob = Glob(pattern, crossesSlash: false)
            let matched = candidates.filter { glob.matches($0.config) }.sorted { $0.config < $1.config }
            guard !matched.isEmpty else { throw IndexError.globMatchesNothing(glob: pattern) }
            rows += matched
        }
        guard rows.count == names.count else {
            throw IndexError.nameCountMismatch(names: names.count, matches: rows.map(\.config))
        }
        self.entries = rows
        self.names = names
        self.fields = fields
        self.baseDir = baseDir
    }

    /// The table text, ending with a newline.
    public func render(_ format: Format = .html) -> String {
        switch format {
        case .html: return html()
        case .markdown: return markdown()
        }
    }

    /// `<table><tbody>` ... `</tbody></table>` as MODEL_ZOO.md holds it.
    public func html() -> String {
        var out = "<table><tbody>\n<!-- START TABLE -->\n<!-- TABLE HEADER -->\n"
        out += "<th valign=\"bottom\">Name</th>\n"
        for field in fields { out += "<th valign=\"bottom\">\(field.header)</th>\n" }
        out += "<th valign=\"bottom\">model id</th>\n<th valign=\"bottom\">download</th>\n<!-- TABLE BODY -->\n"
        for (entry, name) in zip(entries, names) {
            out += "<!-- ROW: \(Self.html(entry.name)) -->\n"
            out += " <tr><td align=\"left\"><a href=\"\(Self.html(link(for: entry)))\">\(Self.html(name))</a></td>\n"
            for field in fields { out += "<td align=\"center\">\(Self.html(field.format(entry.metrics[field.name])))</td>\n" }
            out += "<td align=\"center\">\(Self.html(entry.id))</td>\n"
            out += "<td align=\"center\">\(downloadCell(entry))</td>\n</tr>\n"
        }
        out += "</tbody></table>\n"
        return out
    }

    /// The same table in Markdown.
    public func markdown() -> String {
        let header = ["Name"] + fields.map(\.plainHeader) + ["model id", "download"]
        var out = "| " + header.joined(separator: " | ") + " |\n"
        out += "|" + String(repeating: ":---:|", count: header.count) + "\n"
        for (entry, name) in zip(entries, names) {
            var cells = ["[\(Self.cell(name))](\(Self.cell(link(for: entry))))"]
            cells += fields.map { Self.cell($0.format(entry.metrics[$0.name])) }
            cells.append(Self.cell(entry.id))
            var download = "[model](\(Self.cell(entry.weightsURL)))"
            if let m = entry.metricsURL { download += " \\| [metrics](\(Self.cell(m)))" }
            cells.append(download)
            out += "| " + cells.joined(separator: " | ") + " |\n"
        }
        return out
    }

    private func downloadCell(_ entry: ZooEntry) -> String {
        var cell = "<a href=\"\(Self.html(entry.weightsURL))\">model</a>"
        if let m = entry.metricsURL { cell += "&nbsp;|&nbsp;<a href=\"\(Self.html(m))\">metrics</a>" }
        return cell
    }

    /// `text` for HTML text and quoted attributes: `&`, `<`, `>` and `"` escaped (the zoo's own
    /// names, configs and URLs have none, so its tables are unchanged).
    static func html(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }

    /// `text` for a Markdown table cell: `|` escaped, line breaks as spaces.
    static func cell(_ text: String) -> String {
        String(text.flatMap { $0 == "|" ? ["\\", "|"] : ($0.isNewline ? [" "] : [$0]) })
    }

    /// The config link: `configs/<config>` relative to `baseDir`, where both are taken from
    /// gen_html_table.py's own directory, three levels below the repository root (so the default
    /// `../../..` gives `configs/X/y.yaml` and `../../../configs/X` gives `y.yaml`).
    public func link(for entry: ZooEntry) -> String {
        let cwd = ["_", "_", "_"]
        let target = ["configs"] + entry.config.split(separator: "/").map(String.init)
        let base = HTMLTable.resolve(baseDir, from: cwd)
        var common = 0
        while common < base.count, common < target.count, base[common] == target[common] { common += 1 }
        let ups = Array(repeating: "..", count: base.count - common)
        let parts = ups + target[common...]
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }

    /// Lexically resolves `path` against `cwd` (components below the virtual root), clamping at the root.
    static func resolve(_ path: String, from cwd: [String]) -> [String] {
        var parts = path.hasPrefix("/") ? [] : cwd
        for component in path.split(separator: "/") {
            switch component {
            case ".", "": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(String(component))
            }
        }
        return parts
    }
}
