import Foundation

/// The aligned text table `zoo list` prints.
public struct ListTable: Sendable {
    /// The metric columns shown (those any listed entry has, in this order).
    public static let metricColumns = ["lr_sched", "box_AP", "mask_AP", "keypoint_AP", "PQ", "prop_AR", "inference_speed"]

    /// The rendered rows, header first.
    public var rows: [[String]]

    /// Builds the table; `isCached` says whether an entry's weights are in the local cache.
    public init(entries: [ZooEntry], isCached: (ZooEntry) -> Bool) {
        let metrics = ListTable.metricColumns.filter { name in entries.contains { $0.metrics[name] != nil } }
        let fields = metrics.compactMap { name in MetricField.all.first { $0.name == name } }
        var rows = [["id", "config", "task"] + fields.map(\.name) + ["cached"]]
        for e in entries {
            rows.append([e.id, e.config, e.task] + fields.map { $0.format(e.metrics[$0.name]) } + [isCached(e) ? "yes" : "no"])
        }
        self.rows = rows
    }

    /// Columns padded to equal width, separated by two spaces; numbers right-aligned.
    public func render() -> String {
        // Index text is shown with control characters escaped (one row, one line).
        let rows = self.rows.map { $0.map { displayText($0, limit: 1000) } }
        guard let header = rows.first else { return "" }
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        let numeric = header.indices.map { i in i >= 3 && rows.dropFirst().allSatisfy { $0[i].isEmpty || Double($0[i]) != nil } }
        var out = ""
        for row in rows {
            var line = ""
            for (i, cell) in row.enumerated() {
                let pad = String(repeating: " ", count: widths[i] - cell.count)
                line += numeric[i] ? pad + cell : cell + pad
                if i < row.count - 1 { line += "  " }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        return out
    }
}
