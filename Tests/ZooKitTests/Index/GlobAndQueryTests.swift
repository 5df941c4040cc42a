import Foundation
import Testing
@testable import ZooKit

/// Glob matching and `zoo list`'s selection (patterns, task, --where, --sort).
@Suite struct GlobAndQueryTests {
    let index: ZooIndex

    init() throws {
        index = try ZooIndex.parse(json: EmbeddedIndex.json, source: "embedded")
    }

    @Test(arguments: [
        ("COCO-Detection/faster*50*1x*", "COCO-Detection/faster_rcnn_R_50_C4_1x.yaml", false, true),
        ("COCO-Detection/faster*50*1x*", "COCO-Detection/faster_rcnn_R_50_C4_3x.yaml", false, false),
        ("*.yaml", "Detectron1-Comparisons/x.yaml", false, false),
        ("*.yaml", "Detectron1-Comparisons/x.yaml", true, true),
        ("Misc/cascade*1x.yaml", "Misc/cascade_mask_rcnn_R_50_FPN_1x.yaml", false, true),
        ("Misc/cascade*1x.yaml", "Misc/cascade_mask_rcnn_R_50_FPN_1x_extra.yaml", false, false),
        ("a?c", "abc", false, true),
        ("a?c", "a/c", false, false),
        ("a?c", "a/c", true, true),
        ("[ab]x", "bx", false, true),
        ("[!ab]x", "bx", false, false),
        ("[a-c]x", "cx", false, true),
        ("[x", "[x", false, true),
        ("**", "", false, true),
    ])
    func globMatching(pattern: String, text: String, crossesSlash: Bool, expected: Bool) {
        #expect(Glob(pattern, crossesSlash: crossesSlash).matches(text) == expected)
    }

    @Test func whereConditionsCombineWithAnd() throws {
        let query = EntryQuery(conditions: [try .init(parsing: "box_AP>44"), try .init(parsing: "mask_AP < 40")])
        let selected = try query.apply(to: index)
        #expect(!selected.isEmpty)
        for e in selected {
            let box = try #require(e.metrics["box_AP"]?.doubleValue)
            let mask = try #require(e.metrics["mask_AP"]?.doubleValue)
            #expect(box > 44 && mask < 40)
        }
        let all = index.entries.filter { ($0.metrics["box_AP"]?.doubleValue ?? 0) > 44 && ($0.metrics["mask_AP"]?.doubleValue ?? 99) < 40 }
        #expect(selected.map(\.id) == all.map(\.id))
    }

    @Test func whereComparesNumbersNotText() throws {
        // "9x" sorts after "10" as text; 0.1 < 0.05 as text but not as numbers.
        let slow = try EntryQuery(conditions: [.init(parsing: "inference_speed>=0.1")]).apply(to: index)
        #expect(slow.allSatisfy { ($0.metrics["inference_speed"]?.doubleValue ?? 0) >= 0.1 })
        #expect(slow.contains { $0.id == "18131413" })
        #expect(!slow.contains { $0.id == "137849600" })
        let byText = try EntryQuery(conditions: [.init(parsing: "lr_sched=9x")]).apply(to: index)
        #expect(Set(byText.map(\.id)) == ["183808979", "184226666"])
        let depth = try EntryQuery(conditions: [.init(parsing: "depth==152")]).apply(to: index)
        #expect(depth.contains { $0.id == "FAIR/X-152-32x8d-IN5k" })
    }

    @Test func unknownFieldListsValidOnes() {
        #expect {
            try EntryQuery.Condition(parsing: "boxAP>40")
        } throws: { error in
            "\(error)".contains("box_AP") && "\(error)".contains("\"boxAP\"")
        }
        #expect(throws: IndexError.self) { try EntryQuery.Condition(parsing: "box_AP>forty") }
        #expect(throws: IndexError.self) { try EntryQuery.Condition(parsing: "box_AP") }
        #expect(throws: IndexError.self) { try EntryQuery(sortField: "speed").apply(to: index) }
        #expect(throws: IndexError.self) { try EntryQuery(task: "segmentation").apply(to: index) }
    }

    @Test func patternsTaskAndSort() throws {
        let keypoints = try EntryQuery(patterns: ["COCO-Keypoints/*"]).apply(to: index)
        #expect(keypoints.count == 4)
        #expect(keypoints.allSatisfy { $0.task == "keypoints" })
        let byName = try EntryQuery(patterns: ["mask_rcnn_R_50_FPN_?x"]).apply(to: index)
        // Names match across folders: the LVIS mask_rcnn_R_50_FPN_1x too.
        #expect(Set(byName.map(\.id)) == ["137260431", "137849600", "144219072"])
        let sorted = try EntryQuery(task: "keypoints", sortField: "box_AP", descending: true).apply(to: index)
        let values = sorted.compactMap { $0.metrics["box_AP"]?.doubleValue }
        #expect(values == values.sorted(by: >))
        #expect(sorted.count > values.count, "entries without box_AP (Caffe2 baseline) come last")
        #expect(sorted.last?.metrics["box_AP"] == nil)
    }

    @Test func listTableAlignsColumns() throws {
        let entries = try EntryQuery(patterns: ["Detectron1-Comparisons/*"]).apply(to: index)
        let text = ListTable(entries: entries, isCached: { $0.id == "137781281" }).render()
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("id "))
        #expect(lines[0].hasSuffix("cached"))
        #expect(lines.contains { $0.hasPrefix("137781281 ") && $0.hasSuffix("yes") })
        #expect(lines.contains { $0.hasPrefix("137781054 ") && $0.hasSuffix("no") })
        // Columns line up: "box_AP" values end where the header ends.
        let end = try #require(lines[0].range(of: "box_AP")).upperBound.utf16Offset(in: lines[0])
        for line in lines.dropFirst() {
            let i = line.index(line.startIndex, offsetBy: end - 4)
            #expect(line[i..<line.index(i, offsetBy: 4)].allSatisfy { $0.isNumber || $0 == "." })
        }
    }
}
