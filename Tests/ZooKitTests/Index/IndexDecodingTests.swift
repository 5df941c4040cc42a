import Foundation
import Testing
@testable import ZooKit

/// The strict reader: JSON syntax, entry fields, and errors that name the entry and the field.
@Suite struct IndexDecodingTests {
    static let goodEntry = #"{"id": "mine", "config": "my/model.yaml", "weights_url": "https://example.org/w/model_final_abcdef.pkl"}"#

    func errorText(_ json: String) -> String? {
        do {
            _ = try ZooIndex.parse(json: json, source: "test.json")
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func minimalUserEntryGetsDefaults() throws {
        let index = try ZooIndex.parse(json: #"{"entries": [\#(Self.goodEntry)]}"#, source: "test.json")
        let e = try #require(index.entries.first)
        #expect(e.id == "mine")
        #expect(e.name == "model")
        #expect(e.layout == .detectron2)
        #expect(e.kind == .model)
        #expect(e.md5Prefix == nil)
        #expect(e.hasInferenceSettings == false)
        #expect(e.source == "test.json")
    }

    @Test func jsonRoundTrip() throws {
        let index = try ZooIndex.parse(json: EmbeddedIndex.json, source: "embedded")
        let e = try index.lookup("137849600")
        let again = try ZooEntry(json: IndexValue.parse(e.json.jsonText(indent: 2), source: "x"), position: 0, source: "embedded")
        #expect(again == e)
    }

    @Test(arguments: [
        (#"{"entries": [{"id": "a", "config": "c.yaml"}]}"#, "weights_url"),
        (#"{"entries": [{"id": "a", "config": "c.yaml", "weights_url": 3}]}"#, "weights_url"),
        (#"{"entries": [{"id": "a", "config": "c.yaml", "weights_url": "ftp://x/y.pkl"}]}"#, "weights_url"),
        (#"{"entries": [{"id": "a", "config": "c.yaml", "weights_url": "https://x/y.pkl", "md5_prefix": "XYZ"}]}"#, "md5_prefix"),
        (#"{"entries": [{"id": "a", "config": "c.yaml", "weights_url": "https://x/y.pkl", "layout": "onnx"}]}"#, "layout"),
        (#"{"entries": [{"id": "a", "config": "c.yaml", "weights_url": "https://x/y.pkl", "weights": "typo"}]}"#, "weights"),
        (#"{"entries": [{"id": "a", "config": "c.yaml", "weights_url": "https://x/y.pkl", "metrics": {"box_AP": [1]}}]}"#, "metrics.box_AP"),
        (#"{"entries": [{"id": "a", "config": "c.yaml", "weights_url": "https://x/y.pkl", "architecture": {"depth": "fifty"}}]}"#, "architecture.depth"),
        (#"{"entries": [{"config": "c.yaml", "weights_url": "https://x/y.pkl"}]}"#, "id"),
    ])
    func malformedEntryNamesEntryAndField(json: String, field: String) throws {
        let text = try #require(errorText(json))
        #expect(text.contains("test.json"), "\(text)")
        #expect(text.contains("entries[0]"), "\(text)")
        #expect(text.contains("field \"\(field)\""), "\(text)")
        #expect(!text.contains("\n"))
    }

    @Test func duplicateIdIsRejected() throws {
        let text = try #require(errorText(#"{"entries": [\#(Self.goodEntry), \#(Self.goodEntry)]}"#))
        #expect(text.contains("entries[1] (id mine)"), "\(text)")
    }

    @Test func malformedDatasetIsRejected() throws {
        let text = try #require(errorText(#"{"entries": [], "datasets": {"d": {"thing_classes": ["a", "b"], "thing_colors": [[1, 2, 3]]}}}"#))
        #expect(text.contains("datasets.d"), "\(text)")
        #expect(text.contains("thing_colors"), "\(text)")
        let flip = try #require(errorText(#"{"entries": [], "datasets": {"d": {"thing_classes": ["a"], "keypoint_names": ["l", "r"], "keypoint_flip_map": [["l", "x"]]}}}"#))
        #expect(flip.contains("keypoint_flip_map"), "\(flip)")
    }

    @Test func syntaxErrorsGiveTheByteOffset() throws {
        let text = try #require(errorText(#"{"entries": [1, ]}"#))
        #expect(text.contains("byte offset 16"), "\(text)")
        #expect(errorText(#"{"entries": []} x"#)?.contains("byte offset 16") == true)
        #expect(errorText(#"{"entries": "#)?.contains("end of text") == true)
        #expect(errorText(#"{"a": 1, "a": 2, "entries": []}"#)?.contains("duplicate member") == true)
        #expect(errorText("[]")?.contains("entries") == true)
    }

    @Test func parserHandlesEscapesAndNumbers() throws {
        let v = try IndexValue.parse(#"{"s": "a\"b\\c\u00e9\ud83d\ude00\n", "n": [-1.5e2, 0, 12.25], "b": [true, false, null]}"#, source: "x")
        #expect(v["s"] == .string("a\"b\\cé😀\n"))
        #expect(v["n"] == .array([.number(-150), .number(0), .number(12.25)]))
        #expect(v["b"] == .array([.bool(true), .bool(false), .null]))
        #expect(IndexValue.string("a\"\n").description == #""a\"\n""#)
        #expect(IndexValue.number(3).description == "3")
        #expect(IndexValue.number(0.038).description == "0.038")
        #expect(throws: IndexError.self) { try IndexValue.parse("01x", source: "x") }
        // A number JSON output could not hold again (it would print as inf).
        #expect(throws: IndexError.self) { try IndexValue.parse(#"{"box_AP": 1e999}"#, source: "x") }
        #expect(throws: IndexError.self) { try IndexValue.parse("-1e400", source: "x") }
        #expect(throws: IndexError.self) { try IndexValue.parse("\"\\q\"", source: "x") }
    }

    @Test func mergeReplacesByIdAndAppendsNew() throws {
        var index = try ZooIndex.parse(json: EmbeddedIndex.json, source: "embedded")
        let count = index.entries.count
        let user = try ZooIndex.parse(json: #"""
            {"entries": [
              {"id": "137849600", "config": "COCO-InstanceSegmentation/mask_rcnn_R_50_FPN_3x.yaml", "weights_url": "file:///tmp/mine.pkl"},
              \#(Self.goodEntry)
            ]}
            """#, source: "user.json")
        index.merge(user)
        #expect(index.entries.count == count + 1)
        #expect(try index.lookup("137849600").weightsURL == "file:///tmp/mine.pkl")
        #expect(try index.lookup("137849600").source == "user.json")
        #expect(try index.lookup("mine").config == "my/model.yaml")
    }

    @Test func loadReadsAnExtraFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-index-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("extra.json")
        try #"{"entries": [\#(Self.goodEntry)]}"#.write(to: file, atomically: true, encoding: .utf8)
        let index = try ZooIndex.load(extraIndex: file)
        #expect(try index.lookup("mine").source == file.path)
        #expect(try index.lookup("137781281").config.hasPrefix("Detectron1-Comparisons/"))
        #expect {
            try ZooIndex.load(extraIndex: dir.appendingPathComponent("missing.json"))
        } throws: { error in
            "\(error)".contains("missing.json")
        }
    }
}
