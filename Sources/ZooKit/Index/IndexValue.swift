import Foundation

/// A JSON value as the index stores it: facts such as metrics and resolved config values.
public enum IndexValue: Equatable, Sendable, CustomStringConvertible {
    /// JSON `null`.
    case null
    /// `true` / `false`.
    case bool(Bool)
    /// Any JSON number (integers are exact up to 2^53).
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([IndexValue])
    /// An object, members in file order (names are unique).
    case object([(String, IndexValue)])

    /// The number, if this is one.
    public var doubleValue: Double? {
        if case .number(let x) = self { return x }
        return nil
    }

    /// The number as an integer, if this is a whole number.
    public var intValue: Int? {
        if case .number(let x) = self, x.rounded() == x, abs(x) < 1e15 { return Int(x) }
        return nil
    }

    /// The string, if this is one.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The boolean, if this is one.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [IndexValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The members in file order, if this is an object.
    public var objectValue: [(String, IndexValue)]? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// The member named `key`, if this is an object that has it.
    public subscript(key: String) -> IndexValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.0 == key }?.1
    }

    public static func == (a: IndexValue, b: IndexValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.number(let x), .number(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    /// Compact JSON text (numbers without a needless ".0").
    public var description: String { jsonText() }

    /// JSON text; with `indent` a pretty-printed form, objects one member per line.
    public func jsonText(indent: Int? = nil, level: Int = 0) -> String {
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .number(let x): return IndexValue.format(number: x)
        case .string(let s): return IndexValue.quote(s)
        case .array(let items):
            return "[" + items.map { $0.jsonText() }.joined(separator: ", ") + "]"
        case .object(let members):
            guard let indent, !members.isEmpty else {
                return "{" + members.map { IndexValue.quote($0.0) + ": " + $0.1.jsonText() }.joined(separator: ", ") + "}"
            }
            let pad = String(repeating: " ", count: indent * (level + 1))
            let inner = members.map { pad + IndexValue.quote($0.0) + ": " + $0.1.jsonText(indent: indent, level: level + 1) }
            return "{\n" + inner.joined(separator: ",\n") + "\n" + String(repeating: " ", count: indent * level) + "}"
        }
    }

    /// Shortest text that reads back as the same Double; whole numbers without a fraction.
    static func format(number x: Double) -> String {
        if x.rounded() == x, abs(x) < 1e15 { return String(Int(x)) }
        return "\(x)"
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
