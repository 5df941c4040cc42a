internal import CYaml

/// Bounds on the shape of a YAML document, checked on libyaml's event stream before Yams composes
/// a tree. Yams' composer and `ConfigYAML.tree` recurse once per nesting level, and an alias is
/// expanded every time it is used, so without these a few kilobytes of YAML overflow the stack
/// (`[[[[...` 5000 deep) or expand to 10^9 values ("billion laughs", aliases of aliases).
///
/// detectron2 configs nest 4 levels (`MODEL.ROI_BOX_HEAD.BBOX_REG_WEIGHTS` plus a list) and a
/// `cfg.dump()` aliases a few short lists (`*id001`), so both bounds are far above any real config.
enum YAMLLimits {
    /// The deepest nesting of mappings and sequences accepted, counting through aliases.
    static let maxDepth = 64
    /// The most values (scalars, mappings and sequences) a document may hold once every alias is
    /// expanded. A full detectron2 dump holds about 600.
    static let maxValues = 100_000

    /// One open mapping or sequence.
    private struct Frame {
        var anchor: String?
        /// Values in it so far, itself included, aliases expanded.
        var values = 1
        /// Nesting depth of its deepest child (0: none yet).
        var childDepth = 0
    }

    /// Throws `ConfigError.nestedTooDeep` or `.aliasExpansion` if `text` exceeds the bounds.
    /// Text libyaml cannot parse is left for Yams, which reports it with the same libyaml error.
    static func check(_ text: String, file: String) throws {
        let bytes = Array(text.utf8)
        try bytes.withUnsafeBufferPointer { buffer in
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else { return }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            try scan(&parser, file: file)
        }
    }

    private static func scan(_ parser: inout yaml_parser_t, file: String) throws {
        // Size and depth of each anchored value, as its aliases will expand it.
        var anchors: [String: (values: Int, depth: Int)] = [:]
        var stack: [Frame] = []
        var total = 0

        /// Counts a finished value of `values` values and `depth` levels into its parent.
        func add(values: Int, depth: Int, at mark: yaml_mark_t, alias: String?) throws {
            let (sum, overflow) = total.addingReportingOverflow(values)
            total = overflow ? Int.max : sum
            if total > maxValues, let alias {
                throw ConfigError.aliasExpansion(location(mark, file), alias: alias, limit: maxValues)
            }
            if stack.count + depth > maxDepth {
                throw ConfigError.nestedTooDeep(location(mark, file), key: "", limit: maxDepth)
            }
            guard !stack.isEmpty else { return }
            let (v, o) = stack[stack.count - 1].values.addingReportingOverflow(values)
            stack[stack.count - 1].values = o ? Int.max : v
            stack[stack.count - 1].childDepth = max(stack[stack.count - 1].childDepth, depth)
        }

        while true {
            var event = yaml_event_t()
            // A syntax error: Yams parses the text again and reports it.
            guard yaml_parser_parse(&parser, &event) == 1 else { return }
            defer { yaml_event_delete(&event) }
            let mark = event.start_mark
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return
            case YAML_SCALAR_EVENT:
                if let anchor = string(event.data.scalar.anchor) { anchors[anchor] = (1, 0) }
                try add(values: 1, depth: 0, at: mark, alias: nil)
            case YAML_ALIAS_EVENT:
                // An unknown alias is a composer error Yams reports.
                guard let name = string(event.data.alias.anchor), let anchored = anchors[name] else { continue }
                try add(values: anchored.values, depth: anchored.depth, at: mark, alias: name)
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                if stack.count >= maxDepth {
                    throw ConfigError.nestedTooDeep(location(mark, file), key: "", limit: maxDepth)
                }
                let anchor = event.type == YAML_SEQUENCE_START_EVENT
                    ? string(event.data.sequence_start.anchor) : string(event.data.mapping_start.anchor)
                stack.append(Frame(anchor: anchor))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let frame = stack.popLast() else { continue }
                let depth = frame.childDepth + 1
                if let anchor = frame.anchor { anchors[anchor] = (frame.values, depth) }
                // The frame's own values were counted into `total` as they came; count itself.
                let (sum, overflow) = total.addingReportingOverflow(1)
                total = overflow ? Int.max : sum
                guard !stack.isEmpty else { continue }
                let (v, o) = stack[stack.count - 1].values.addingReportingOverflow(frame.values)
                stack[stack.count - 1].values = o ? Int.max : v
                stack[stack.count - 1].childDepth = max(stack[stack.count - 1].childDepth, depth)
            default:
                continue
            }
        }
    }

    private static func string(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let p else { return nil }
        return String(cString: p)
    }

    private static func location(_ mark: yaml_mark_t, _ file: String) -> ConfigError.Location {
        .init(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }
}
