/// The subset of Python's `ast.literal_eval` detectron2 configs use: numbers (with sign),
/// quoted strings, `True`/`False`/`None`, tuples and lists (nested, trailing commas allowed).
/// Anything else (a bare word such as `res4`, a dict, an expression) is not a literal: nil.
enum PythonLiteral {
    /// The deepest nesting of lists and tuples read. The parser recurses once per level, so a
    /// string of 100k `[` would overflow the stack; Python's own tokenizer stops at 200 ("too many
    /// nested parentheses") and detectron2 configs nest 2.
    static let maxDepth = 64

    /// What a string reads as.
    enum Outcome: Equatable {
        case literal(ConfigValue)
        case notALiteral
        /// Lists or tuples nest deeper than `maxDepth`.
        case tooDeep
    }

    static func decode(_ text: String) -> Outcome {
        var p = Parser(chars: Array(text.unicodeScalars))
        p.skipSpace()
        let v = p.value()
        if p.tooDeep { return .tooDeep }
        guard let v else { return .notALiteral }
        p.skipSpace()
        return p.atEnd ? .literal(v) : .notALiteral
    }

    /// The literal `text` holds, or nil (also when it nests deeper than `maxDepth`).
    static func parse(_ text: String) -> ConfigValue? {
        if case let .literal(v) = decode(text) { return v }
        return nil
    }

    private struct Parser {
        var chars: [Unicode.Scalar]
        var i = 0
        /// Lists and tuples open around the current position.
        var depth = 0
        /// Set when `depth` would pass `maxDepth`; the parse then fails.
        var tooDeep = false

        var atEnd: Bool { i >= chars.count }
        var peek: Unicode.Scalar? { i < chars.count ? chars[i] : nil }

        mutating func skipSpace() {
            while let c = peek, c == " " || c == "\t" || c == "\n" || c == "\r" { i += 1 }
        }

        mutating func value() -> ConfigValue? {
            guard let c = peek else { return nil }
            switch c {
            case "(": return sequence(close: ")", isTuple: true)
            case "[": return sequence(close: "]", isTuple: false)
            case "'", "\"": return quoted(c)
            case "+", "-", ".", "0"..."9": return number()
            default: return word()
            }
        }

        /// `(a)` is just `a`; `(a,)`, `(a, b)` and `()` are tuples.
        mutating func sequence(close: Unicode.Scalar, isTuple: Bool) -> ConfigValue? {
            guard depth < PythonLiteral.maxDepth else {
                tooDeep = true
                return nil
            }
            depth += 1
            defer { depth -= 1 }
            i += 1
            var items: [ConfigValue] = []
            var sawComma = false
            skipSpace()
            while true {
                if peek == close {
                    i += 1
                    if isTuple, items.count == 1, !sawComma { return items[0] }
                    return .list(items)
                }
                guard let v = value() else { return nil }
                items.append(v)
                skipSpace()
                if peek == "," {
                    sawComma = true
                    i += 1
                    skipSpace()
                } else if peek != close {
                    return nil
                }
            }
        }

        mutating func quoted(_ q: Unicode.Scalar) -> ConfigValue? {
            i += 1
            var s = String.UnicodeScalarView()
            while let c = peek {
                i += 1
                if c == q { return .string(String(s)) }
                if c == "\\" {
                    guard let e = peek else { return nil }
                    i += 1
                    switch e {
                    case "n": s.append("\n")
                    case "t": s.append("\t")
                    case "\\", "'", "\"": s.append(e)
                    default: s.append("\\"); s.append(e)
                    }
                } else {
                    s.append(c)
                }
            }
            return nil
        }

        mutating func number() -> ConfigValue? {
            var sign = 1.0
            var negative = false
            while let c = peek, c == "+" || c == "-" {
                if c == "-" { sign = -sign; negative.toggle() }
                i += 1
                skipSpace()
            }
            let start = i
            while let c = peek, ("0"..."9").contains(c) || c == "." || c == "e" || c == "E" || c == "_"
                || ((c == "+" || c == "-") && i > start && (chars[i - 1] == "e" || chars[i - 1] == "E")) {
                i += 1
            }
            let body = String(String.UnicodeScalarView(chars[start..<i])).replacingOccurrences(of: "_", with: "")
            guard !body.isEmpty else { return nil }
            if body.allSatisfy(\.isNumber), let v = Int(body) {
                // Python forbids leading zeros in non-zero decimal integers.
                if body.count > 1, body.first == "0", v != 0 { return nil }
                return .int(negative ? -v : v)
            }
            guard body.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let d = Double(body) else { return nil }
            return .double(sign * d)
        }

        mutating func word() -> ConfigValue? {
            let start = i
            while let c = peek, c.properties.isAlphabetic || c == "_" || ("0"..."9").contains(c) { i += 1 }
            switch String(String.UnicodeScalarView(chars[start..<i])) {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .null
            default: return nil
            }
        }
    }
}
