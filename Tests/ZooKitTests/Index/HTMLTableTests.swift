import Foundation
import Testing
@testable import ZooKit

/// gen_html_table.py's selection rules, links and errors (byte-exact tables are in GenTableCLITests).
@Suite struct HTMLTableTests {
    let index: ZooIndex

    init() throws {
        index = try ZooIndex.parse(json: EmbeddedIndex.json, source: "embedded")
    }

    @Test func eachGlobsMatchesAreSortedAndConcatenated() throws {
        let table = try HTMLTable(index: index, configGlobs: ["COCO-Keypoints/*101*", "COCO-Keypoints/*50*"],
                                  names: ["a", "b", "c", "d"], fields: ["box_AP"])
        #expect(table.entries.map(\.name) == [
            "keypoint_rcnn_R_101_FPN_3x", "keypoint_rcnn_X_101_32x8d_FPN_3x", "keypoint_rcnn_R_50_FPN_1x", "keypoint_rcnn_R_50_FPN_3x",
        ])
    }

    @Test(arguments: [
        ("../../..", "configs/COCO-Keypoints/keypoint_rcnn_R_50_FPN_1x.yaml"),
        ("../../../configs/COCO-Keypoints", "keypoint_rcnn_R_50_FPN_1x.yaml"),
        ("../../../configs", "COCO-Keypoints/keypoint_rcnn_R_50_FPN_1x.yaml"),
        ("../../../configs/Misc", "../COCO-Keypoints/keypoint_rcnn_R_50_FPN_1x.yaml"),
        (".", "../../../configs/COCO-Keypoints/keypoint_rcnn_R_50_FPN_1x.yaml"),
    ])
    func linksAreRelativeToBaseDir(baseDir: String, expected: String) throws {
        let table = try HTMLTable(index: index, configGlobs: ["COCO-Keypoints/*R_50*1x*"], names: ["x"], fields: [], baseDir: baseDir)
        #expect(table.link(for: table.entries[0]) == expected)
        #expect(table.html().contains("<a href=\"\(expected)\">x</a>"))
    }

    @Test func textFromTheIndexIsEscaped() throws {
        let json = #"{"entries": [{"id": "900001", "config": "Custom/a<b>\"c&d.yaml", "task": "instance_segmentation", "dataset": "coco_2017", "weights_url": "https://x/a<b>.pkl", "metrics": {"box_AP": "1x<img src=x>"}}]}"#
        let custom = try ZooIndex.parse(json: json, source: "test")
        let table = try HTMLTable(index: custom, configGlobs: ["Custom/*"], names: ["n<i>|a"], fields: ["box_AP"])
        let html = table.html()
        #expect(html.contains("a&lt;b&gt;&quot;c&amp;d.yaml"), "\(html)")
        #expect(html.contains(">n&lt;i&gt;|a</a>") && html.contains("1x&lt;img src=x&gt;") && html.contains("https://x/a&lt;b&gt;.pkl"))
        #expect(!html.contains("<img") && !html.contains("<i>"))
        let markdown = table.markdown()
        #expect(markdown.contains("[n<i>\\|a]"), "\(markdown)")
        #expect(markdown.split(separator: "\n").allSatisfy { $0.components(separatedBy: " | ").count <= 5 })
    }

    @Test func errorsAreOneLineAndSpecific() {
        #expect {
            try HTMLTable(index: index, configGlobs: ["Nothing/*"], names: [], fields: [])
        } throws: { error in
            guard case IndexError.globMatchesNothing("Nothing/*") = error else { return false }
            return !"\(error)".contains("\n")
        }
        #expect {
            try HTMLTable(index: index, configGlobs: ["COCO-Keypoints/*"], names: ["one"], fields: [])
        } throws: { error in
            guard case IndexError.nameCountMismatch(1, let matches) = error else { return false }
            return matches.count == 4
        }
        #expect {
            try HTMLTable(index: index, configGlobs: ["COCO-Keypoints/*"], names: ["a", "b", "c", "d"], fields: ["box_ap"])
        } throws: { error in
            "\(error)".contains("box_AP") && "\(error)".contains("keypoint_AP")
        }
    }

    @Test func markdownHasTheSameCells() throws {
        let table = try HTMLTable(index: index, configGlobs: ["Detectron1-Comparisons/mask*"], names: ["Mask R-CNN"], fields: ["box_AP", "mask_AP"])
        let md = table.markdown().split(separator: "\n").map(String.init)
        #expect(md.count == 3)
        #expect(md[0] == "| Name | box AP | mask AP | model id | download |")
        #expect(md[2].hasPrefix("| [Mask R-CNN](configs/Detectron1-Comparisons/mask_rcnn_R_50_FPN_noaug_1x.yaml) | 37.8 | 34.9 | 137781281 | [model]("))
    }

    @Test func metricFormatting() throws {
        #expect(try MetricField.named("inference_speed").format(.number(0.07)) == "0.070")
        #expect(try MetricField.named("mem").format(.number(5)) == "5.0")
        #expect(try MetricField.named("epochs").format(.number(100)) == "100")
        #expect(try MetricField.named("train_speed").format(.string("N/A")) == "N/A")
        #expect(try MetricField.named("box_AP").format(nil) == "")
    }
}
