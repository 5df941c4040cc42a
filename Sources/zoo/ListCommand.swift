import ArgumentParser
import Foundation
import ZooKit

/// `zoo list`: the index as an aligned table (or JSON), filtered and sorted.
struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the model zoo: id, config, task, key metrics, cached or not.",
        discussion: """
            Patterns are shell globs over config path, name and id ('COCO-Keypoints/*', 'mask*3x'). \
            --where conditions combine with AND and compare numerically: --where 'box_AP>40' --where 'inference_speed<0.05'.

            Fields for --where and --sort: \(EntryQuery.fields.joined(separator: ", ")).
            """)

    @Argument(help: "Shell globs over config path, name and id; entries matching any are listed.")
    var patterns: [String] = []

    @Option(help: "Only entries of this task (detection, proposals, instance_segmentation, keypoints, panoptic_segmentation, backbone).")
    var task: String?

    @Option(name: .customLong("where"), help: ArgumentHelp("A condition FIELD OP VALUE (OP: = != < <= > >=); repeatable, all must hold.", valueName: "condition"))
    var conditions: [String] = []

    @Option(help: "Sort by this field (entries without it last).")
    var sort: String?

    @Flag(help: "Sort descending.")
    var desc = false

    @Flag(help: "Print the selected entries as a JSON array.")
    var json = false

    @OptionGroup var index: IndexOptions

    func run() throws {
        let zooIndex = try index.load()
        let query = EntryQuery(
            patterns: patterns, task: task, conditions: try conditions.map { try EntryQuery.Condition(parsing: $0) },
            sortField: sort, descending: desc)
        let entries = try query.apply(to: zooIndex)
        if json {
            print(IndexValue.array(entries.map(\.json)).jsonText(indent: 2))
            return
        }
        if entries.isEmpty {
            FileHandle.standardError.write(Data("zoo list: no entry matches\n".utf8))
            return
        }
        print(ListTable(entries: entries, isCached: CacheSeam.isCached).render(), terminator: "")
    }
}
