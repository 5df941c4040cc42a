import Foundation

/// Why a detectron2 config could not be read or applied. Each message is one line naming the
/// file (or where an override came from: "override", an index entry), the key, the line and
/// column where known, and what to do.
public enum ConfigError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Where a value came from: a YAML file position, or a dotted override.
    public struct Location: Equatable, Sendable, CustomStringConvertible {
        /// The YAML file, or what `RCNNConfig.applying(_:source:base:)` was told (by default
        /// "override" and "config").
        public var file: String
        /// 1-based line, 0 if unknown.
        public var line: Int
        /// 1-based column, 0 if unknown.
        public var column: Int

        /// A position in `file` (line and column 1-based; 0 for unknown).
        public init(file: String, line: Int = 0, column: Int = 0) {
            self.file = file
            self.line = line
            self.column = column
        }

        public var description: String {
            line > 0 ? "\(file):\(line):\(column)" : file
        }
    }

    /// The file could not be read.
    case unreadable(file: String, reason: String)
    /// libyaml rejected the text.
    case malformedYAML(Location, reason: String)
    /// The document (or a `_BASE_`) is not a mapping of config keys.
    case notAMapping(Location, key: String)
    /// `_BASE_` names a file that does not exist or is not a string.
    case badBase(Location, base: String, reason: String)
    /// `_BASE_` files include each other.
    case baseCycle(Location, chain: [String])
    /// A value that is not a mapping (an empty `INPUT:`, `MODEL: ~`, a number) stands where
    /// `_BASE_` or detectron2's defaults hold a section of config keys: yacs refuses it (a type
    /// mismatch) rather than let it drop every key of the section.
    case replacesSection(Location, key: String, found: String)
    /// A key the engine reads holds a value of the wrong type.
    case wrongType(Location, key: String, expected: String, found: String)
    /// A dotted override names a key the engine does not read.
    case unknownKey(Location, key: String)
    /// A key holds a value of the right type outside what detectron2 (or this engine's memory
    /// bounds, `RCNNConfig.Limits`) allows; `allowed` says what is.
    case outOfRange(Location, key: String, found: String, allowed: String)
    /// YAML values or a Python literal nest deeper than `limit` levels (`key` empty: in the YAML
    /// document itself).
    case nestedTooDeep(Location, key: String, limit: Int)
    /// Expanding the YAML aliases (`*name`) would make more than `limit` values.
    case aliasExpansion(Location, alias: String, limit: Int)

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "cannot read config \(file): \(reason); check the path"
        case let .malformedYAML(loc, reason):
            return "\(loc): malformed YAML: \(reason); fix the syntax there"
        case let .notAMapping(loc, key):
            let what = key.isEmpty ? "the document" : "'\(key)'"
            return "\(loc): \(what) must be a mapping of config keys; check the indentation"
        case let .badBase(loc, base, reason):
            return "\(loc): _BASE_ '\(base)' \(reason); _BASE_ paths are relative to the file that names them"
        case let .baseCycle(loc, chain):
            return "\(loc): _BASE_ files include each other (\(chain.joined(separator: " -> "))); remove one _BASE_"
        case let .replacesSection(loc, key, found):
            return "\(loc): \(key) is \(displayText(found, limit: 80)) where a section of config keys is expected (it would drop every setting of the section); indent its keys below it or remove the line"
        case let .wrongType(loc, key, expected, found):
            return "\(loc): \(key) must be \(expected), found \(displayText(found, limit: 80)); correct the value"
        case let .unknownKey(loc, key):
            return "\(loc): \(key) is not a config key the engine reads; check the spelling (e.g. MODEL.ROI_HEADS.NUM_CLASSES)"
        case let .outOfRange(loc, key, found, allowed):
            return "\(loc): \(key) is \(displayText(found, limit: 80)) but must be \(allowed); correct the value"
        case let .nestedTooDeep(loc, key, limit):
            let what = key.isEmpty ? "values nest" : "the value of \(key) nests"
            return "\(loc): \(what) deeper than \(limit) levels; detectron2 configs nest a few levels, so flatten it or check the file is a config"
        case let .aliasExpansion(loc, alias, limit):
            return "\(loc): alias *\(alias) expands the document past \(limit) values (aliases of aliases); write the values out instead of aliasing them"
        }
    }
}
