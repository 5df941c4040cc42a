import Foundation

/// `zoo list`'s selection: glob patterns, a task, `--where` conditions (AND), and a sort field.
public struct EntryQuery: Sendable {
    /// A `--where` condition: FIELD OP VALUE.
    public struct Condition: Sendable, Equatable {
        /// Comparison operators, longest spelling first for parsing.
        public enum Op: String, CaseIterable, Sendable {
            case greaterOrEqual = ">=", lessOrEqual = "<=", notEqual = "!=", equalEqual = "==", greater = ">", less = "<", equal = "="
        }
        /// One of `EntryQuery.fields`.
        public var field: String
        /// The comparison.
        public var op: Op
        /// The right-hand side as written; compared as a number where both sides are numbers.
        public var value: String

        /// Parses `box_AP>40`; the field must be one of `EntryQuery.fields`.
        public init(parsing text: String) throws {
            for op in Op.allCases {
                guard let range = text.range(of: op.rawValue) else { continue }
                let field = text[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                let value = text[range.upperBound...].trimmingCharacters(in: .whitespaces)
                guard !field.isEmpty, !value.isEmpty else { throw IndexError.badCondition(condition: text, reason: "the field or the value is empty") }
                guard EntryQuery.fields.contains(field) else { throw IndexError.unknownField(field: field, valid: EntryQuery.fields) }
                self.field = field
                self.op = op
                self.value = value
                let ordering = op != .equal && op != .equalEqual && op != .notEqual
                if ordering, !EntryQuery.numericFields.contains(field) {
                    throw IndexError.badCondition(condition: text, reason: "\(op.rawValue) compares numbers and \(field) is text (numeric fields: \(EntryQuery.numericFields.joined(separator: ", "))); use = or !=")
                }
                if ordering, Double(value) == nil {
                    throw IndexError.badCondition(condition: text, reason: "\(op.rawValue) compares numbers and \"\(value)\" is not a number")
                }
                if EntryQuery.numericFields.contains(field), let number = Double(value), !number.isFinite {
                    throw IndexError.badCondition(condition: text, reason: "\(field) is compared with \"\(value)\", which is not a finite number")
                }
                return
            }
            throw IndexError.badCondition(condition: text, reason: "no comparison operator found")
        }

        /// Whether `entry` satisfies the condition; an entry without the field never does.
        public func matches(_ entry: ZooEntry) -> Bool {
            guard let actual = EntryQuery.value(of: field, in: entry) else { return false }
            if let x = actual.doubleValue, let y = Double(value) {
                switch op {
                case .greater: return x > y
                case .greaterOrEqual: return x >= y
                case .less: return x < y
                case .lessOrEqual: return x <= y
                case .equal, .equalEqual: return x == y
                case .notEqual: return x != y
                }
            }
            let text: String
            switch actual {
            case .string(let s): text = s
            case .array(let items): text = items.map { $0.stringValue ?? $0.description }.joined(separator: ",")
            default: text = actual.description
            }
            switch op {
            case .equal, .equalEqual: return text == value
            case .notEqual: return text != value
            default: return false
            }
        }
    }

    /// Fields that `--where` and `--sort` accept: entry facts, then every metric.
    public static let fields: [String] = [
        "id", "config", "name", "kind", "task", "dataset", "layout", "meta_architecture", "backbone", "depth", "variant", "heads",
    ] + MetricField.all.map(\.name)

    /// The fields whose values are numbers, which `<`, `<=`, `>` and `>=` compare: `depth` and the
    /// metrics printed with decimals (not `lr_sched`, "3x").
    public static let numericFields: [String] = ["depth"] + MetricField.all.filter { $0.decimals != nil }.map(\.name)

    /// The value of `field` for `entry`, nil where it has none.
    public static func value(of field: String, in entry: ZooEntry) -> IndexValue? {
        switch field {
        case "id": return .string(entry.id)
        case "config": return .string(entry.config)
        case "name": return .string(entry.name)
        case "kind": return .string(entry.kind.rawValue)
        case "task": return .string(entry.task)
        case "dataset": return entry.dataset.map(IndexValue.string)
        case "layout": return .string(entry.layout.rawValue)
        case "meta_architecture": return entry.architecture.metaArchitecture.map(IndexValue.string)
        case "backbone": return entry.architecture.backbone.map(IndexValue.string)
        case "depth": return entry.architecture.depth.map { .number(Double($0)) }
        case "variant": return entry.architecture.variant.map(IndexValue.string)
        case "heads": return .array(entry.architecture.heads.map(IndexValue.string))
        default: return entry.metrics[field]
        }
    }

    /// Glob patterns over config path, name and id (`*` crosses `/`); empty: every entry.
    public var patterns: [String] = []
    /// Exact task name, if any.
    public var task: String?
    /// Conditions, all of which must hold.
    public var conditions: [Condition] = []
    /// Field to sort by (stable; entries without the field last), nil: index order.
    public var sortField: String?
    /// Sort descending.
    public var descending = false

    public init(patterns: [String] = [], task: String? = nil, conditions: [Condition] = [], sortField: String? = nil, descending: Bool = false) {
        self.patterns = patterns
        self.task = task
        self.conditions = conditions
        self.sortField = sortField
        self.descending = descending
    }

    /// The selected entries of `index`, sorted; errors for an unknown task or sort field.
    public func apply(to index: ZooIndex) throws -> [ZooEntry] {
        if let task {
            let tasks = Array(Set(index.entries.map(\.task))).sorted()
            guard tasks.contains(task) else { throw IndexError.unknownTask(task: task, valid: tasks) }
        }
        if let sortField, !EntryQuery.fields.contains(sortField) {
            throw IndexError.unknownField(field: sortField, valid: EntryQuery.fields)
        }
        let globs = patterns.map { Glob($0, crossesSlash: true) }
        var selected = index.entries.filter { entry in
            if let task, entry.task != task { return false }
            if !globs.isEmpty, !globs.contains(where: { g in
                g.matches(entry.config) || g.matches(entry.name) || g.matches(entry.id) || g.matches(ZooIndex.withoutExtension(entry.config))
            }) { return false }
            return conditions.allSatisfy { $0.matches(entry) }
        }
        if let sortField {
            let keyed = selected.enumerated().map { (offset: $0.offset, entry: $0.element, key: EntryQuery.value(of: sortField, in: $0.element)) }
            let sorted = keyed.sorted { a, b in
                switch (a.key, b.key) {
                case (nil, nil): return a.offset < b.offset
                case (nil, _): return false
                case (_, nil): return true
                case (let x?, let y?):
                    let order = EntryQuery.compare(x, y)
                    if order == 0 { return a.offset < b.offset }
                    return descending ? order > 0 : order < 0
                }
            }
            selected = sorted.map(\.entry)
        }
        return selected
    }

    /// Numbers before strings; numbers numerically, strings lexicographically.
    static func compare(_ a: IndexValue, _ b: IndexValue) -> Int {
        switch (a.doubleValue, b.doubleValue) {
        case (let x?, let y?): return x < y ? -1 : (x > y ? 1 : 0)
        case (.some, nil): return -1
        case (nil, .some): return 1
        default:
            let x = a.stringValue ?? a.description, y = b.stringValue ?? b.description
            return x < y ? -1 : (x > y ? 1 : 0)
        }
    }
}
