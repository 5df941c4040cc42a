import Foundation
import Testing
@testable import ZooKit

/// `Glob` matching in linear time with the old semantics, and `--where` conditions that could never
/// hold refused.
@Suite struct GlobLinearAndWhereTests {
    /// The recursive matcher `Glob` used before (every split of every `*`): exponential on some
    /// patterns, but the reference for what matches.
    static func reference(_ pattern: String, _ text: String, crossesSlash slash: Bool) -> Bool {
        let p = Array(pattern), t = Array(text)
        func hasClassEnd(_ start: Int) -> Bool {
            var i = start + 1
            if i < p.count, p[i] == "!" { i += 1 }
            if i < p.count, p[i] == "]" { i += 1 }
            while i < p.count { if p[i] == "]" { return true }; i += 1 }
            return false
        }
        func matchClass(_ start: Int, _ c: Character) -> (Bool, Int)? {
            guard hasClassEnd(start) else { return nil }
            var i = start + 1, negate = false, matched = false, first = true
            if i < p.count, p[i] == "!" { negate = true; i += 1 }
            while i < p.count, p[i] != "]" || first {
                first = false
                if i + 2 < p.count, p[i + 1] == "-", p[i + 2] != "]" {
                    if p[i] <= c && c <= p[i + 2] { matched = true }
                    i += 3
                } else {
                    if p[i] == c { matched = true }
                    i += 1
                }
            }
            return (matched != negate, i + 1)
        }
        func match(_ pi: Int, _ ti: Int) -> Bool {
            var pi = pi, ti = ti
            while pi < p.count {
                switch p[pi] {
                case "*":
                    while pi < p.count, p[pi] == "*" { pi += 1 }
                    if pi == p.count { return slash || !t[ti...].contains("/") }
                    var k = ti
                    while k <= t.count {
                        if match(pi, k) { return true }
                        if k < t.count, !slash, t[k] == "/" { return false }
                        k += 1
                    }
                    return false
                case "?":
                    guard ti < t.count, slash || t[ti] != "/" else { return false }
                    pi += 1; ti += 1
                case "[":
                    guard ti < t.count, let (matched, next) = matchClass(pi, t[ti]) else {
                        if ti < t.count, t[ti] == "[", !hasClassEnd(pi) { pi += 1; ti += 1; continue }
                        return false
                    }
                    guard matched, slash || t[ti] != "/" else { return false }
                    pi = next; ti += 1
                default:
                    guard ti < t.count, t[ti] == p[pi] else { return false }
                    pi += 1; ti += 1
                }
            }
            return ti == t.count
        }
        return match(0, 0)
    }

    /// A small deterministic generator (xorshift), so a failure is reproducible.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17
            return state
        }
    }

    @Test func agreesWithTheRecursiveMatcherOnRandomPatterns() {
        var rng = Generator(state: 0x9E37_79B9_7F4A_7C15)
        let patternAlphabet: [String] = ["a", "b", "/", "*", "*", "?", "[ab]", "[!a]", "[a-b]", "[", "]", "**"]
        let textAlphabet: [Character] = ["a", "b", "/", "[", "]", "c"]
        var disagreements: [String] = []
        for _ in 0..<20_000 {
            let pattern = (0..<Int.random(in: 0...7, using: &rng)).map { _ in patternAlphabet.randomElement(using: &rng) ?? "" }.joined()
            let text = String((0..<Int.random(in: 0...8, using: &rng)).map { _ in textAlphabet.randomElement(using: &rng) ?? "a" })
            for slash in [false, true] where Glob(pattern, crossesSlash: slash).matches(text) != Self.reference(pattern, text, crossesSlash: slash) {
                disagreements.append("\(pattern) ~ \(text) (crossesSlash \(slash))")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(10))")
    }

    /// Runs `body` on another thread and reports whether it finished within `seconds` (a
    /// matcher that backtracks exponentially would never return; its thread is left behind).
    func finishes(within seconds: Double, _ body: @escaping @Sendable () -> Void) -> Bool {
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread { body(); done.signal() }
        return done.wait(timeout: .now() + seconds) == .success
    }

    @Test func starQuestionPatternsFinishAtOnce() throws {
        let index = try ZooIndex.parse(json: EmbeddedIndex.json, source: "embedded")
        let pattern = "*?*?*?*?*?*?*?*?*?*?*?*?*?z"
        final class Box: @unchecked Sendable { var selected: [ZooEntry]? }
        let box = Box()
        let start = Date()
        let finished = finishes(within: 10) {
            box.selected = try? EntryQuery(patterns: [pattern]).apply(to: index)
        }
        #expect(finished, "zoo list '\(pattern)' did not finish in 10 s")
        guard finished else { return }
        #expect(Date().timeIntervalSince(start) < 2)
        #expect(box.selected?.isEmpty == true)  // no config, name or id ends in z
        // Not crossing '/', as gen-table's --config globs: as quick, same answers.
        let long = String(repeating: "a", count: 200)
        #expect(finishes(within: 10) {
            _ = Glob(String(repeating: "*a", count: 30) + "*b", crossesSlash: false).matches(long)
        })
        #expect(!Glob(String(repeating: "*a", count: 30) + "*b", crossesSlash: false).matches(long))
        #expect(Glob("*?*?*?*?*?*?*?*?*?*?*?*?*?n", crossesSlash: true).matches("COCO-Detection/faster_rcnn_R_50_FPN_1x.yaml_fn"))
        #expect(!Glob("*?*?*?*?*?*?*?*?*?*?*?*?*?l", crossesSlash: false).matches("COCO-Detection/faster_rcnn_R_50_FPN_1x.yaml"))
        #expect(Glob("*/*?*?*?*?*?*?*?*?*?*?*?*?*?l", crossesSlash: false).matches("COCO-Detection/faster_rcnn_R_50_FPN_1x.yaml"))
    }

    @Test(arguments: [
        "id>137000000", "name>5", "config<=a", "task>=a", "lr_sched>3", "heads<2",  // text fields: never ordered
        "box_AP>nan", "box_AP!=nan", "box_AP=NaN", "box_AP<inf", "mask_AP>=-infinity", "depth==inf",  // not finite
    ])
    func conditionsThatCanNeverHoldAreRefused(condition: String) {
        #expect {
            try EntryQuery.Condition(parsing: condition)
        } throws: { error in
            guard case IndexError.badCondition(let text, let reason) = error else { return false }
            let message = "\(error)"
            return text == condition && !reason.isEmpty && message.contains(condition) && !message.contains("\n")
        }
    }

    @Test func numericAndTextConditionsStillWork() throws {
        let index = try ZooIndex.parse(json: EmbeddedIndex.json, source: "embedded")
        for condition in ["box_AP>40", "depth>=101", "epochs<100", "inference_speed<=0.05", "name=nan", "id=137781281",
                          "lr_sched!=3x", "box_AP!=40.2", "PQ>0"] {
            let parsed = try EntryQuery.Condition(parsing: condition)
            _ = try EntryQuery(conditions: [parsed]).apply(to: index)
        }
        let deep = try EntryQuery(conditions: [.init(parsing: "depth>=101")]).apply(to: index)
        #expect(!deep.isEmpty && deep.allSatisfy { ($0.architecture.depth ?? 0) >= 101 })
        #expect(EntryQuery.numericFields.contains("box_AP") && !EntryQuery.numericFields.contains("lr_sched"))
        #expect(!EntryQuery.numericFields.contains("id"))
    }
}
