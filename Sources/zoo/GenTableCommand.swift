import ArgumentParser
import Foundation
import ZooKit

/// `zoo gen-table`: detectron2's `gen_html_table.py`, byte for byte.
struct GenTableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gen-table",
        abstract: "Print a model zoo table exactly as detectron2's gen_html_table.py does.",
        discussion: """
            Each --config glob matches config paths (relative to configs/; * does not cross /); \
            each glob's matches are taken in sorted order. --name gives one name per matched config, in row order.

            Fields: \(MetricField.all.map(\.name).joined(separator: ", ")).
            """)

    @Option(name: .customLong("config"), parsing: .upToNextOption, help: ArgumentHelp("Config path globs.", valueName: "glob"))
    var configGlobs: [String] = []

    @Option(name: .customLong("name"), parsing: .upToNextOption, help: ArgumentHelp("Row names, one per matched config.", valueName: "name"))
    var names: [String] = []

    @Option(parsing: .upToNextOption, help: ArgumentHelp("Metric columns.", valueName: "field"))
    var fields: [String] = []

    @Option(name: .customLong("base-dir"), help: ArgumentHelp(
        "Config links are relative to this directory, seen from gen_html_table.py's place three levels below detectron2's root; the default gives configs/....",
        valueName: "dir"))
    var baseDir: String = HTMLTable.defaultBaseDir

    @Option(help: "html (detectron2's) or markdown.")
    var format: String = "html"

    @OptionGroup var index: IndexOptions

    func validate() throws {
        if configGlobs.isEmpty { throw ValidationError("give at least one --config GLOB") }
        if HTMLTable.Format(rawValue: format) == nil {
            throw ValidationError("--format must be one of \(HTMLTable.Format.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() throws {
        let table = try HTMLTable(index: try index.load(), configGlobs: configGlobs, names: names, fields: fields, baseDir: baseDir)
        print(table.render(HTMLTable.Format(rawValue: format) ?? .html), terminator: "")
    }
}
