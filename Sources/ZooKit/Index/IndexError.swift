import Foundation

/// What went wrong while reading the index, looking an entry up, filtering or building a table.
public enum IndexError: Error, CustomStringConvertible, Equatable {
    /// The file could not be read at all.
    case cannotRead(path: String, reason: String)
    /// The text is not valid JSON.
    case malformedJSON(source: String, offset: Int, reason: String)
    /// The JSON is valid but a field of an entry (or of a dataset) is missing or of the wrong kind.
    case malformedEntry(source: String, entry: String, field: String, reason: String)
    /// No entry has this id, config path or name.
    case unknownModel(query: String, suggestions: [String])
    /// A name matches several entries.
    case ambiguousModel(query: String, matches: [String])
    /// A field name that the command does not know.
    case unknownField(field: String, valid: [String])
    /// A dataset name that the index does not hold.
    case unknownDataset(name: String, valid: [String])
    /// A task name that no entry has.
    case unknownTask(task: String, valid: [String])
    /// A `--where` condition that cannot be read or compared.
    case badCondition(condition: String, reason: String)
    /// A `gen-table --config` glob that matches no entry.
    case globMatchesNothing(glob: String)
    /// `gen-table` got a different number of names than configs matched.
    case nameCountMismatch(names: Int, matches: [String])

    public var description: String {
        switch self {
        case .cannotRead(let path, let reason):
            return "cannot read index file \(path): \(reason); check the path given to --index or ZOO_INDEX"
        case .malformedJSON(let source, let offset, let reason):
            return "index \(source) is not valid JSON at byte offset \(offset): \(reason); fix the file"
        case .malformedEntry(let source, let entry, let field, let reason):
            return "index \(source): \(entry), field \"\(field)\": \(reason); fix that entry"
        case .unknownModel(let query, let suggestions):
            let hint = suggestions.isEmpty ? "run `zoo list` to see every entry" : "did you mean \(suggestions.joined(separator: ", "))?"
            return "no zoo entry has the id, config or name \"\(query)\"; \(hint)"
        case .ambiguousModel(let query, let matches):
            return "\"\(query)\" matches several entries (\(matches.joined(separator: ", "))); give the id or the full config path"
        case .unknownField(let field, let valid):
            return "unknown field \"\(field)\"; valid fields: \(valid.joined(separator: ", "))"
        case .unknownDataset(let name, let valid):
            return "the index has no dataset \"\(name)\"; known datasets: \(valid.joined(separator: ", "))"
        case .unknownTask(let task, let valid):
            return "unknown task \"\(task)\"; valid tasks: \(valid.joined(separator: ", "))"
        case .badCondition(let condition, let reason):
            return "cannot use --where '\(condition)': \(reason); write it as FIELD OP VALUE, e.g. 'box_AP>40' (OP: = != < <= > >=)"
        case .globMatchesNothing(let glob):
            return "--config '\(glob)' matches no config path in the index; check the glob with `zoo list '\(glob)'`"
        case .nameCountMismatch(let names, let matches):
            return "got \(names) name(s) for \(matches.count) matched config(s) (\(matches.joined(separator: ", "))); give one --name per matched config, in order"
        }
    }
}
