import Foundation
import Testing
@testable import ZooKit

/// Nesting and alias expansion are bounded before Yams composes a tree (it and `ConfigYAML.tree`
/// recurse per level), and Python literals are bounded in depth: a hostile file is one
/// `ConfigError`, not a stack overflow or a hang.
@Suite("Config YAML: nesting and alias limits")
final class ConfigYAMLLimitsTests {
    static let fixture = TestSupport.fixtures.appendingPathComponent("models/tiny_faster_rcnn_R_50_FPN.yaml")

    /// This test's folder for the files `file` writes; each test has its own instance, whose `deinit`
    /// removes the folder when the test ends.
    private let root = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-limits-\(UUID().uuidString)")

    deinit { try? FileManager.default.removeItem(at: root) }

    /// `text` as `hostile.yaml` in a fresh folder under `root`.
    private func file(_ text: String) throws -> URL {
        let dir = root.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let url = dir.appendingPathComponent("hostile.yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    private func configError(_ body: () throws -> Void) -> ConfigError? {
        do {
            try body()
            Issue.record("no error")
        } catch let e as ConfigError {
            return e
        } catch {
            Issue.record("unexpected \(error)")
        }
        return nil
    }

    @Test("the fixtures, which alias lists as cfg.dump() does, still load")
    func fixturesLoad() throws {
        for name in ["tiny_faster_rcnn_R_50_FPN", "tiny_mask_rcnn_R_50_FPN", "tiny_keypoint_rcnn_R_50_FPN"] {
            _ = try RCNNConfig.load(contentsOf: TestSupport.fixtures.appendingPathComponent("models/\(name).yaml"))
        }
        let c = try RCNNConfig.load(contentsOf: try file("""
            _BASE_: \(Self.fixture.path)
            MODEL:
              PIXEL_MEAN: &m [1, 2, 3]
              PIXEL_STD: *m
            """))
        #expect(c.model.pixelStd == [1, 2, 3])
    }

    /// Named cases, so a test report does not print 100 kB of brackets.
    enum DeepFlow: String, CaseIterable {
        case sequences5000, mappings3000, unbalanced100k

        var text: String {
            switch self {
            case .sequences5000:
                return "MODEL:\n  PIXEL_MEAN: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
            case .mappings3000:
                return "MODEL:\n  PIXEL_MEAN: " + String(repeating: "{a: ", count: 3000) + "1" + String(repeating: "}", count: 3000)
            case .unbalanced100k:
                return String(repeating: "[", count: 100_000)  // the depth is reported before the syntax error
            }
        }
    }

    @Test("flow sequences and mappings nested thousands deep", arguments: DeepFlow.allCases)
    func deepFlow(_ shape: DeepFlow) throws {
        let text = shape.text
        let e = configError { _ = try RCNNConfig.load(contentsOf: try file(text)) }
        guard case let .nestedTooDeep(loc, key, limit) = e else { Issue.record("\(String(describing: e))"); return }
        #expect(loc.file.hasSuffix("hostile.yaml") && loc.line >= 1 && key.isEmpty && limit == YAMLLimits.maxDepth)
        #expect(e?.description.contains("deeper than 64 levels") == true)
    }

    @Test("block mappings nested 3000 keys deep")
    func deepBlockMapping() throws {
        let text = (0..<3000).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " 1\n"
        let e = configError { _ = try RCNNConfig.load(contentsOf: try file(text)) }
        guard case let .nestedTooDeep(loc, _, _) = e else { Issue.record("\(String(describing: e))"); return }
        #expect(loc.line == YAMLLimits.maxDepth + 1)  // line n opens the n-th mapping
    }

    @Test("64 levels are accepted, 65 are not")
    func depthBoundary() throws {
        // The document's mapping is level 1; MODEL 2; the value's lists the rest.
        func text(_ lists: Int) -> String {
            "MODEL:\n  X: " + String(repeating: "[", count: lists) + String(repeating: "]", count: lists)
        }
        _ = try RCNNConfig.load(contentsOf: try file(text(62)))
        let e = configError { _ = try RCNNConfig.load(contentsOf: try file(text(63))) }
        #expect(e.map { if case .nestedTooDeep = $0 { true } else { false } } == true)
    }

    @Test("billion laughs: aliases of aliases")
    func billionLaughs() throws {
        var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        for i in 1...9 {
            lines.append("a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]")
        }
        let clock = ContinuousClock()
        let start = clock.now
        let e = configError { _ = try RCNNConfig.load(contentsOf: try file(lines.joined(separator: "\n"))) }
        #expect(clock.now - start < .seconds(5))
        guard case let .aliasExpansion(loc, alias, limit) = e else { Issue.record("\(String(describing: e))"); return }
        // a0..a3 hold 11, 111, 1111 and 11111 values; the eighth *a3 in a4 (line 5) passes 100000.
        #expect(alias == "a3" && limit == YAMLLimits.maxValues && loc.line == 5)
        #expect(e?.description.contains("alias *a3 expands the document past 100000 values") == true)
    }

    @Test("an alias that carries nesting past the limit")
    func deepAlias() throws {
        let deep = String(repeating: "[", count: 40) + String(repeating: "]", count: 40)
        let text = "a: &d \(deep)\nb: \(String(repeating: "[", count: 40))*d\(String(repeating: "]", count: 40))\n"
        let e = configError { _ = try RCNNConfig.load(contentsOf: try file(text)) }
        guard case let .nestedTooDeep(loc, _, _) = e else { Issue.record("\(String(describing: e))"); return }
        #expect(loc.line == 2)
    }

    @Test("a Python literal nested deeper than 64 levels names the key; shallower ones still read")
    func deepLiteral() throws {
        func brackets(_ n: Int) -> String { String(repeating: "[", count: n) + "1" + String(repeating: "]", count: n) }
        #expect(PythonLiteral.decode(brackets(64)) != .tooDeep && PythonLiteral.parse(brackets(64)) != nil)
        #expect(PythonLiteral.decode(brackets(65)) == .tooDeep)
        #expect(PythonLiteral.decode(String(repeating: "[", count: 100_000)) == .tooDeep)
        #expect(PythonLiteral.decode(String(repeating: "(", count: 100_000)) == .tooDeep)
        // The public decoding leaves it a string, as Python's "too many nested parentheses" does.
        #expect(ConfigValue.decodingPythonLiteral(brackets(65)) == .string(brackets(65)))

        let url = try file("""
            _BASE_: \(Self.fixture.path)
            MODEL:
              PIXEL_MEAN: "\(String(repeating: "[", count: 100_000))"
            """)
        let e = configError { _ = try RCNNConfig.load(contentsOf: url) }
        #expect(e == .nestedTooDeep(.init(file: url.standardizedFileURL.path, line: 3, column: 15), key: "MODEL.PIXEL_MEAN",
                                    limit: PythonLiteral.maxDepth))
        let o = configError { _ = try RCNNConfig.defaults.applying(["MODEL.PIXEL_MEAN": .string(brackets(100))]) }
        #expect(o == .nestedTooDeep(.init(file: "override"), key: "MODEL.PIXEL_MEAN", limit: 64))
    }

    @Test("a long found value is cut in the message, which stays one line")
    func longValueAbbreviated() throws {
        let long = String(repeating: "x", count: 100_000)
        let e = configError { _ = try RCNNConfig.defaults.applying(["MODEL.PIXEL_MEAN": .string(long)]) }
        let text = e?.description ?? ""
        #expect(text.count < 300 && text.contains("(100002 characters)") && !text.contains("\n"), "\(text)")
    }
}
