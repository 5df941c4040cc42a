import Foundation

/// A shell-style pattern over paths: `*` and `?` within one path component, `[abc]`, `[a-z]`,
/// `[!a]` / `[^a]` classes, `**` as a whole component for zero or more directories, `\` to escape.
///
/// As in bash (with `globstar`), wildcards never match a name's leading `.` and `*` never crosses
/// a `/`. Expansion lists directories with `FileManager`; the order of the matches is that of
/// the sorted directory listings, and the caller sorts the final list anyway.
struct GlobPattern: Sendable {
    /// One `/`-separated piece of a pattern.
    enum Component: Sendable, Equatable {
        /// A plain name (escapes removed): no listing needed.
        case literal(String)
        /// A name with `*`, `?` or `[...]`.
        case wildcard(NamePattern)
        /// `**`: zero or more directories (or, as the last component, everything below).
        case recursive
    }

    /// The pattern as written, for messages.
    let text: String
    /// Whether the pattern starts at `/`.
    let isAbsolute: Bool
    let components: [Component]

    init(_ text: String) throws {
        self.text = text
        isAbsolute = text.hasPrefix("/")
        var parsed: [Component] = []
        for piece in text.split(separator: "/", omittingEmptySubsequences: true) {
            let piece = String(piece)
            if piece == "**" {
                // `**/**` is the same as `**`.
                if parsed.last != .recursive { parsed.append(.recursive) }
            } else if GlobPattern.hasWildcards(piece) {
                parsed.append(.wildcard(try NamePattern(piece, pattern: text)))
            } else {
                parsed.append(.literal(try GlobPattern.unescape(piece, pattern: text)))
            }
        }
        components = parsed
    }

    /// Whether `text` holds an unescaped `*`, `?` or `[`, i.e. whether it is meant as a pattern.
    static func hasWildcards(_ text: String) -> Bool {
        var escaped = false
        for c in text {
            if escaped { escaped = false; continue }
            if c == "\\" { escaped = true; continue }
            if c == "*" || c == "?" || c == "[" { return true }
        }
        return false
    }

    static func unescape(_ piece: String, pattern: String) throws -> String {
        var out = ""
        var escaped = false
        for c in piece {
            if escaped { out.append(c); escaped = false } else if c == "\\" { escaped = true } else { out.append(c) }
        }
        if escaped { throw BatchError.badPattern(pattern: pattern, detail: "trailing backslash") }
        return out
    }

    /// A path found while expanding: as the user would write it, and where it is on disk.
    struct Match: Sendable {
        var display: String
        var url: URL
    }

    /// Every existing path the pattern matches; relative patterns start at `base`.
    func expand(base: URL, fileManager: FileManager = .default) throws -> [Match] {
        var current = [isAbsolute ? Match(display: "/", url: URL(fileURLWithPath: "/")) : Match(display: "", url: base)]
        for (index, component) in components.enumerated() {
            let isLast = index == components.count - 1
            var next: [Match] = []
            for match in current {
                switch component {
                case let .literal(name):
                    let child = match.appending(name)
                    if isLast ? fileManager.fileExists(atPath: child.url.path) : isDirectory(child.url, fileManager) {
                        next.append(child)
                    }
                case let .wildcard(namePattern):
                    guard isDirectory(match.url, fileManager) else { continue }
                    for name in try listing(match, fileManager) where namePattern.matches(name) {
                        let child = match.appending(name)
                        if isLast || isDirectory(child.url, fileManager) { next.append(child) }
                    }
                case .recursive:
                    guard isDirectory(match.url, fileManager) else { continue }
                    var visited = Set<String>()
                    try descend(match, includeFiles: isLast, visited: &visited, into: &next, fileManager)
                }
            }
            current = next
        }
        // A pattern of only `/` (or nothing) names its start.
        return current.filter { !$0.display.isEmpty }
    }

    /// `match` and every non-hidden directory below it (and, when `includeFiles`, every file),
    /// following symbolic links to directories once each.
    private func descend(_ match: Match, includeFiles: Bool, visited: inout Set<String>, into out: inout [Match], _ fileManager: FileManager) throws {
        let real = match.url.resolvingSymlinksInPath().path
        guard visited.insert(real).inserted else { return }
        out.append(match)
        for name in try listing(match, fileManager) where !name.hasPrefix(".") {
            let child = match.appending(name)
            if isDirectory(child.url, fileManager) {
                try descend(child, includeFiles: includeFiles, visited: &visited, into: &out, fileManager)
            } else if includeFiles {
                out.append(child)
            }
        }
    }

    private func listing(_ match: Match, _ fileManager: FileManager) throws -> [String] {
        do {
            return try fileManager.contentsOfDirectory(atPath: match.url.path).sorted(by: ImageInputs.pathOrder)
        } catch {
            throw BatchError.unreadableDirectory(path: match.display.isEmpty ? "." : match.display, detail: error.localizedDescription)
        }
    }

    private func isDirectory(_ url: URL, _ fileManager: FileManager) -> Bool {
        var isDir: ObjCBool = false
        return fileManager.fileExists(atPath: url.path, isDirectory: &isDir) && isDir.boolValue
    }
}

extension GlobPattern.Match {
    /// The child `name`, joined with one `/` in both spellings.
    func appending(_ name: String) -> GlobPattern.Match {
        let joined = display.isEmpty ? name : (display.hasSuffix("/") ? display + name : display + "/" + name)
        return GlobPattern.Match(display: joined, url: url.appendingPathComponent(name))
    }
}

/// A pattern for one path component: `*`, `?`, `[...]` and escaped characters (fnmatch without
/// `FNM_PATHNAME` subtleties, since a component holds no `/`).
struct NamePattern: Sendable, Equatable {
    enum Token: Sendable, Equatable {
        case character(Character)
        case any
        case star
        case set(ranges: [ClosedRange<Character>], negated: Bool)
    }

    let tokens: [Token]

    init(_ piece: String, pattern: String) throws {
        var tokens: [Token] = []
        let chars = Array(piece)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            switch c {
            case "\\":
                guard i + 1 < chars.count else { throw BatchError.badPattern(pattern: pattern, detail: "trailing backslash") }
                tokens.append(.character(chars[i + 1]))
                i += 2
            case "*":
                if tokens.last != .star { tokens.append(.star) }
                i += 1
            case "?":
                tokens.append(.any)
                i += 1
            case "[":
                let (token, end) = try NamePattern.parseSet(chars, from: i, pattern: pattern)
                tokens.append(token)
                i = end
            default:
                tokens.append(.character(c))
                i += 1
            }
        }
        self.tokens = tokens
    }

    /// Parses `[...]` starting at `start` (the `[`); returns the token and the index after `]`.
    private static func parseSet(_ chars: [Character], from start: Int, pattern: String) throws -> (Token, Int) {
        var i = start + 1
        var negated = false
        if i < chars.count, chars[i] == "!" || chars[i] == "^" { negated = true; i += 1 }
        var ranges: [ClosedRange<Character>] = []
        var first = true
        while i < chars.count {
            var c = chars[i]
            if c == "]" && !first { return (.set(ranges: ranges, negated: negated), i + 1) }
            first = false
            if c == "\\", i + 1 < chars.count { i += 1; c = chars[i] }
            if i + 2 < chars.count, chars[i + 1] == "-", chars[i + 2] != "]" {
                var upper = chars[i + 2]
                var end = i + 3
                if upper == "\\", i + 3 < chars.count { upper = chars[i + 3]; end = i + 4 }
                guard c <= upper else {
                    throw BatchError.badPattern(pattern: pattern, detail: "range \(c)-\(upper) is backwards")
                }
                ranges.append(c...upper)
                i = end
            } else {
                ranges.append(c...c)
                i += 1
            }
        }
        throw BatchError.badPattern(pattern: pattern, detail: "unclosed [")
    }

    /// Whether `name` matches; a leading `.` must be matched by a literal `.`.
    func matches(_ name: String) -> Bool {
        let chars = Array(name)
        if chars.first == ".", tokens.first != .character(".") { return false }
        return NamePattern.match(tokens[...], chars[...])
    }

    /// Iterative wildcard matching with one backtrack point (the last `*`), linear in practice.
    private static func match(_ tokens: ArraySlice<Token>, _ chars: ArraySlice<Character>) -> Bool {
        var t = tokens.startIndex, c = chars.startIndex
        var starT: Int? = nil, starC = 0
        while c < chars.endIndex {
            if t < tokens.endIndex {
                switch tokens[t] {
                case .star:
                    starT = t; starC = c; t += 1
                    continue
                case .any:
                    t += 1; c += 1
                    continue
                case let .character(x) where x == chars[c]:
                    t += 1; c += 1
                    continue
                case let .set(ranges, negated) where ranges.contains { $0.contains(chars[c]) } != negated:
                    t += 1; c += 1
                    continue
                default:
                    break
                }
            }
            guard let s = starT else { return false }
            // Let the last `*` swallow one more character and retry.
            starC += 1
            c = starC
            t = s + 1
        }
        while t < tokens.endIndex, tokens[t] == .star { t += 1 }
        return t == tokens.endIndex
    }
}
