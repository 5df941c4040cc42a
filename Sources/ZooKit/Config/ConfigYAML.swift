import Foundation
internal import Yams

/// A detectron2 config as read from YAML: nested sections of values, each remembering where
/// it was written.
indirect enum ConfigTree: Equatable {
    case section([String: ConfigTree], ConfigError.Location)
    case leaf(ConfigValue, ConfigError.Location)

    /// The leaf at `path` (`["MODEL", "RPN", "NMS_THRESH"]`), if the tree has one there.
    func leaf(at path: ArraySlice<String>) -> (ConfigValue, ConfigError.Location)? {
        guard let head = path.first else {
            if case let .leaf(v, loc) = self { return (v, loc) }
            return nil
        }
        guard case let .section(children, _) = self, let child = children[head] else { return nil }
        return child.leaf(at: path.dropFirst())
    }

    /// The first value on the way to the leaf at `path` that stands where a section must be
    /// (`INPUT: ~` on the way to `INPUT.FORMAT`), with its dotted key; nil if there is none.
    func valueInPlaceOfSection(along path: [String]) -> (key: String, value: ConfigValue, location: ConfigError.Location)? {
        var node = self
        for (depth, name) in path.dropLast().enumerated() {
            guard case let .section(children, _) = node, let child = children[name] else { return nil }
            if case let .leaf(value, location) = child {
                return (path[...depth].joined(separator: "."), value, location)
            }
            node = child
        }
        return nil
    }
}

/// Reading detectron2 YAML files with `_BASE_` inheritance, as fvcore's
/// `CfgNode.load_yaml_with_base` does: the base (relative to the including file, recursively)
/// is loaded first and the file's keys are merged into it, sections key by key, values
/// replacing. YAML anchors and aliases are resolved by libyaml; string values go through
/// yacs' literal decoding (`ConfigValue.decodingPythonLiteral`). Nesting and alias expansion are
/// bounded (`YAMLLimits`) before the tree is built.
enum ConfigYAML {
    static let baseKey = "_BASE_"

    /// The merged tree of `url` and its `_BASE_` chain.
    static func loadWithBase(_ url: URL) throws -> ConfigTree {
        try load(url.standardizedFileURL, chain: [])
    }

    private static func load(_ url: URL, chain: [String]) throws -> ConfigTree {
        let file = url.path
        let text: String
        do {
            text = try ReadableFile.text(of: url)
        } catch {
            throw ConfigError.unreadable(file: file, reason: error.reason)
        }
        let node: Node?
        do {
            try YAMLLimits.check(text, file: file)
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw malformed(error, file: file)
        }
        guard let node else { return .section([:], .init(file: file, line: 1, column: 1)) }
        guard case let .section(children, rootLocation) = try tree(node, file: file, path: "", inSequence: false) else {
            throw ConfigError.notAMapping(location(of: node, file: file), key: "")
        }
        guard let baseNode = children[baseKey] else { return .section(children, rootLocation) }
        var own = children
        own[baseKey] = nil
        guard case let .leaf(.string(base), baseLocation) = baseNode else {
            throw ConfigError.badBase(rootLocation, base: "\(baseNode)", reason: "is not a file name")
        }
        let baseURL = try resolve(base: base, from: url, at: baseLocation)
        // Compared as files on disk: a folder reached through a symbolic link is the same folder.
        if (chain + [file]).map(resolvedPath).contains(resolvedPath(baseURL.path)) {
            throw ConfigError.baseCycle(baseLocation, chain: chain + [file, baseURL.path])
        }
        guard FileManager.default.fileExists(atPath: baseURL.path) else {
            throw ConfigError.badBase(baseLocation, base: base, reason: "does not exist (\(baseURL.path))")
        }
        let baseTree = try load(baseURL, chain: chain + [file])
        return try merge(.section(own, rootLocation), into: baseTree, path: "")
    }

    /// `url` and the `_BASE_` files it includes, nearest first, as far as they can be read and
    /// exist (what stops the walk is for `loadWithBase` to report).
    static func fileChain(_ url: URL) -> [URL] {
        var files: [URL] = []
        var next: URL? = url.standardizedFileURL
        while let file = next, !files.map({ resolvedPath($0.path) }).contains(resolvedPath(file.path)) {
            files.append(file)
            next = nil
            guard let text = try? ReadableFile.text(of: file), (try? YAMLLimits.check(text, file: file.path)) != nil,
                  let composed = try? Yams.compose(yaml: text), case let .mapping(mapping) = composed else { break }
            for (key, value) in mapping where key.string == baseKey {
                guard let base = value.string,
                      let baseURL = try? resolve(base: base, from: file, at: .init(file: file.path)),
                      FileManager.default.fileExists(atPath: baseURL.path) else { continue }
                next = baseURL
            }
        }
        return files
    }

    /// fvcore: `~` is expanded; a path that is not absolute (nor an URL) is relative to the
    /// including file's folder.
    private static func resolve(base: String, from url: URL, at location: ConfigError.Location) throws -> URL {
        if base.hasPrefix("http://") || base.hasPrefix("https://") {
            throw ConfigError.badBase(location, base: base, reason: "is a URL; download it and name the local file")
        }
        let expanded = (base as NSString).expandingTildeInPath
        if expanded.hasPrefix("/") { return URL(fileURLWithPath: expanded).standardizedFileURL }
        return url.deletingLastPathComponent().appendingPathComponent(expanded).standardizedFileURL
    }

    /// fvcore's `merge_a_into_b`: sections merge key by key; other values replace values.
    /// A value over a section (an empty `INPUT:`) is refused, as yacs refuses it when the result
    /// is merged into detectron2's defaults.
    private static func merge(_ a: ConfigTree, into b: ConfigTree, path: String) throws -> ConfigTree {
        guard case let .section(aChildren, aLocation) = a else { return a }
        guard case let .section(bChildren, _) = b else { return a }
        var merged = bChildren
        for (key, value) in aChildren {
            let childPath = path.isEmpty ? key : "\(path).\(key)"
            guard let existing = merged[key] else {
                merged[key] = value
                continue
            }
            switch (value, existing) {
            case (.section, .section):
                merged[key] = try merge(value, into: existing, path: childPath)
            case let (.section(_, loc), .leaf):
                // "Cannot inherit key from base!": a section over a value is an error.
                throw ConfigError.notAMapping(loc, key: childPath)
            case let (.leaf(found, loc), .section):
                throw replacedSection(childPath, by: found, at: loc)
            case (.leaf, .leaf):
                merged[key] = value
            }
        }
        return .section(merged, aLocation)
    }

    /// The error for `found` written at `location` where `key` is a section of config keys.
    static func replacedSection(_ key: String, by found: ConfigValue, at location: ConfigError.Location) -> ConfigError {
        .replacesSection(location, key: key, found: found == .null ? "empty (None)" : found.description)
    }

    /// `path` with symbolic links resolved, to compare files whatever their spelling.
    private static func resolvedPath(_ path: String) -> String {
        ImageInput.fileKey(URL(fileURLWithPath: path))
    }

    private static func location(of node: Node, file: String) -> ConfigError.Location {
        guard let mark = node.mark else { return .init(file: file) }
        return .init(file: file, line: mark.line, column: mark.column)
    }

    private static func tree(_ node: Node, file: String, path: String, inSequence: Bool) throws -> ConfigTree {
        let loc = location(of: node, file: file)
        switch node {
        case let .mapping(mapping):
            var children: [String: ConfigTree] = [:]
            for (keyNode, valueNode) in mapping {
                guard case let .scalar(key) = keyNode else {
                    throw ConfigError.notAMapping(location(of: keyNode, file: file), key: path)
                }
                let childPath = path.isEmpty ? key.string : "\(path).\(key.string)"
                children[key.string] = try tree(valueNode, file: file, path: childPath, inSequence: false)
            }
            return .section(children, loc)
        case let .sequence(sequence):
            var items: [ConfigValue] = []
            for item in sequence {
                switch try tree(item, file: file, path: path, inSequence: true) {
                case let .leaf(v, _): items.append(v)
                case .section: items.append(.string("<mapping>"))  // never read by the engine
                }
            }
            return .leaf(.list(items), loc)
        case let .scalar(scalar):
            return .leaf(try value(of: node, scalar: scalar, decodeLiteral: !inSequence, key: path, at: loc), loc)
        }
    }

    /// A YAML 1.1 scalar as PyYAML's safe loader types it; top-level strings then go through
    /// yacs' `literal_eval` (list items do not, as in yacs).
    private static func value(of node: Node, scalar: Node.Scalar, decodeLiteral: Bool, key: String,
                              at location: ConfigError.Location) throws -> ConfigValue {
        // Quoted scalars are strings; plain ones are typed by YAML 1.1's rules, as PyYAML does.
        let name: Tag.Name = scalar.style == .plain ? Resolver.default.resolveTag(of: node) : .str
        switch name {
        case .null: return .null
        case .bool: return node.bool.map(ConfigValue.bool) ?? .string(scalar.string)
        case .int: return node.int.map(ConfigValue.int) ?? .string(scalar.string)
        case .float: return node.float.map(ConfigValue.double) ?? .string(scalar.string)
        default:
            return decodeLiteral ? try ConfigValue.decodingPythonLiteral(scalar.string, key: key, at: location)
                : .string(scalar.string)
        }
    }

    private static func malformed(_ error: YamlError, file: String) -> ConfigError {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let reason = [context.map { "\($0.text)" }, problem].compactMap { $0 }.joined(separator: ": ")
            return .malformedYAML(.init(file: file, line: mark.line, column: mark.column), reason: reason)
        case let .reader(problem, offset, _, _):
            return .malformedYAML(.init(file: file), reason: "\(problem) at byte \(offset ?? 0)")
        default:
            return .malformedYAML(.init(file: file), reason: "\(error)".replacingOccurrences(of: "\n", with: " "))
        }
    }
}
