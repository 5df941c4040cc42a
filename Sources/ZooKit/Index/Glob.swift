/// A shell glob: `*` (any run), `?` (one character), `[abc]`, `[a-z]`, `[!abc]`.
public struct Glob: Sendable, Equatable {
    /// The pattern text.
    public let pattern: String
    /// Whether `*` and `?` may match `/` (Python's `fnmatch`); false is `glob.glob` over paths.
    public let crossesSlash: Bool

    public init(_ pattern: String, crossesSlash: Bool) {
        self.pattern = pattern
        self.crossesSlash = crossesSlash
    }

    /// Whether the whole of `text` matches.
    public func matches(_ text: String) -> Bool {
        Glob.match(Array(pattern), 0, Array(text), 0, crossesSlash)
    }

    /// Whether `pattern` uses any glob syntax.
    public var isLiteral: Bool { !pattern.contains(where: { "*?[".contains($0) }) }

    private static func match(_ p: [Character], _ pi: Int, _ t: [Character], _ ti: Int, _ slash: Bool) -> Bool {
        var pi = pi, ti = ti
        while pi < p.count {
            switch p[pi] {
            case "*":
                // Collapse runs of '*', then try every split point.
                while pi < p.count, p[pi] == "*" { pi += 1 }
                if pi == p.count { return slash || !t[ti...].contains("/") }
                var k = ti
                while k <= t.count {
                    if match(p, pi, t, k, slash) { return true }
                    if k < t.count, !slash, t[k] == "/" { return false }
                    k += 1
                }
                return false
            case "?":
                guard ti < t.count, slash || t[ti] != "/" else { return false }
                pi += 1
                ti += 1
            case "[":
                guard ti < t.count, let (matched, next) = matchClass(p, pi, t[ti]) else {
                    // An unclosed '[' is a literal character, as in fnmatch.
                    if ti < t.count, t[ti] == "[", !hasClassEnd(p, pi) { pi += 1; ti += 1; continue }
                    return false
                }
                guard matched, slash || t[ti] != "/" else { return false }
                pi = next
                ti += 1
            default:
                guard ti < t.count, t[ti] == p[pi] else { return false }
                pi += 1
                ti += 1
            }
        }
        return ti == t.count
    }

    private static func hasClassEnd(_ p: [Character], _ start: Int) -> Bool {
        var i = start + 1
        if i < p.count, p[i] == "!" { i += 1 }
        if i < p.count, p[i] == "]" { i += 1 }
        while i < p.count { if p[i] == "]" { return true }; i += 1 }
        return false
    }

    /// Matches `c` against the class starting at `p[start] == "["`; nil if the class is not closed.
    private static func matchClass(_ p: [Character], _ start: Int, _ c: Character) -> (Bool, Int)? {
        guard hasClassEnd(p, start) else { return nil }
        var i = start + 1
        var negate = false
        if i < p.count, p[i] == "!" { negate = true; i += 1 }
        var matched = false
        var first = true
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
}
