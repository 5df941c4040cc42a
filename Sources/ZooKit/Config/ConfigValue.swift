/// One config value as detectron2's yacs `CfgNode` holds it: YAML scalars and sequences, with
/// strings that read as Python literals (`(800,)`, `True`, `[0.5, 1.0]`) decoded as yacs'
/// `_decode_cfg_value` does with `ast.literal_eval`. Tuples become lists.
///
/// Decodable from JSON (`true`, `3`, `0.5`, `"BGR"`, `[1, 2]`, `null`), which is how the index
/// carries per-entry overrides.
public enum ConfigValue: Sendable, Equatable, Decodable, CustomStringConvertible {
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([ConfigValue])
    /// YAML `null` / Python `None`.
    case null

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else {
            self = .list(try c.decode([ConfigValue].self))
        }
    }

    /// Python-like spelling, used in error messages.
    public var description: String {
        switch self {
        case let .bool(b): return b ? "True" : "False"
        case let .int(i): return String(i)
        case let .double(d): return String(d)
        case let .string(s): return "'\(s)'"
        case let .list(l): return "[" + l.map(\.description).joined(separator: ", ") + "]"
        case .null: return "None"
        }
    }

    /// The value a YAML string becomes in yacs: `ast.literal_eval(s)` if that succeeds,
    /// else the string itself (also when lists nest deeper than 64 levels, as Python's
    /// "too many nested parentheses" leaves it a string).
    public static func decodingPythonLiteral(_ s: String) -> ConfigValue {
        PythonLiteral.parse(s) ?? .string(s)
    }

    /// `decodingPythonLiteral(s)` for the value of `key`, where a literal nested deeper than
    /// `PythonLiteral.maxDepth` is a `ConfigError.nestedTooDeep` rather than a string.
    static func decodingPythonLiteral(_ s: String, key: String, at location: ConfigError.Location) throws -> ConfigValue {
        switch PythonLiteral.decode(s) {
        case let .literal(v): return v
        case .notALiteral: return .string(s)
        case .tooDeep: throw ConfigError.nestedTooDeep(location, key: key, limit: PythonLiteral.maxDepth)
        }
    }
}
