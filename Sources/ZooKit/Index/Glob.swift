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
        Glob.match(Array(pattern), Array(text), crossesSlash)
    }

    /// Whether `pattern` uses any glob syntax.
    public var isLiteral: Bool { !pattern.contains(where: { "*?[".contains($0) }) }

    /// Iterative wildcard matching with one backtrack point (the last `*`), as
    /// `NamePattern.match` does: linear in practice, quadratic at worst, where trying every split
    /// of every `*` would be exponential (`*?*?*?*?*?*?*?*?*?*?*?*?*?z`).
    ///
    /// Forgetting the earlier `*`s is safe: a later `*` can take any run an earlier one would
    /// have taken, and without `crossesSlash` neither can take a `/`, so each `/` of `text` is
    /// matched by a literal `/` of the pattern and no backtracking crosses it.
    private static func match(_ p: [Character], _ t: [Character], _ slash: Bool) -> Bool {
        var pi = 0, ti = 0
        // The pattern position just after the last `*`, and where in `text` that `*`'s run ends.
        var star: (pattern: Int, text: Int)?
        while true {
            if pi < p.count, p[pi] == "*" {
                // Collapse runs of '*'; a trailing one takes the rest of the text.
                while pi < p.count, p[pi] == "*" { pi += 1 }
                if pi == p.count { return slash || !t[ti...].contains("/") }
                star = (pi, ti)
                continue
            }
            if pi == p.count, ti == t.count { return true }
            if ti < t.count, pi < p.count, let next = step(p, pi, t[ti], slash) {
                pi = next
                ti += 1
                continue
            }
            // Let the last `*` take one more character and retry after it.
            guard let (afterStar, runEnd) = star, runEnd < t.count, slash || t[runEnd] != "/" else { return false }
            star = (afterStar, runEnd + 1)
            pi = afterStar
            ti = runEnd + 1
        }
    }

    /// Matches `c` against the element of the pattern at `p[pi]` (not `*`); the index after that
    /// element, or nil if `c` does not match.
    private static func step(_ p: [Character], _ pi: Int, _ c: Character, _ slash: Bool) -> Int? {
        switch p[pi] {
        case "?":
            return slash || c != "/" ? pi + 1 : nil
        case "[":
            guard let (matched, next) = matchClass(p, pi, c) else {
                // An unclosed '[' is a literal character, as in fnmatch.
                return c == "[" ? pi + 1 : nil
            }
            return matched && (slash || c != "/") ? next : nil
        default:
            return c == p[pi] ? pi + 1 : nil
        }
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
