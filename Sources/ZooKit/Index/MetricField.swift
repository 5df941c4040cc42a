import Foundation

/// A metric column of detectron2's model zoo tables, named as `gen_html_table.py --fields` names it.
public struct MetricField: Sendable, Equatable {
    /// The field name (`box_AP`).
    public var name: String
    /// The HTML column header (`box<br/>AP`).
    public var header: String
    /// Digits after the decimal point when the value is a number (nil: print as is).
    public var decimals: Int?

    /// Every field the tables use, in MODEL_ZOO.md's column order.
    public static let all: [MetricField] = [
        MetricField(name: "lr_sched", header: "lr<br/>sched", decimals: nil),
        MetricField(name: "epochs", header: "epochs", decimals: 0),
        MetricField(name: "train_speed", header: "train<br/>time<br/>(s/iter)", decimals: 3),
        MetricField(name: "train_speed_im", header: "train<br/>time<br/>(s/im)", decimals: 3),
        MetricField(name: "inference_speed", header: "inference<br/>time<br/>(s/im)", decimals: 3),
        MetricField(name: "mem", header: "train<br/>mem<br/>(GB)", decimals: 1),
        MetricField(name: "box_AP", header: "box<br/>AP", decimals: 1),
        MetricField(name: "box_AP50", header: "box<br/>AP50", decimals: 1),
        MetricField(name: "mask_AP", header: "mask<br/>AP", decimals: 1),
        MetricField(name: "keypoint_AP", header: "kp.<br/>AP", decimals: 1),
        MetricField(name: "prop_AR", header: "prop.<br/>AR", decimals: 1),
        MetricField(name: "PQ", header: "PQ", decimals: 1),
    ]

    /// The field called `name`, or `IndexError.unknownField` listing the valid ones.
    public static func named(_ name: String) throws -> MetricField {
        guard let field = all.first(where: { $0.name == name }) else {
            throw IndexError.unknownField(field: name, valid: all.map(\.name))
        }
        return field
    }

    /// The cell text for `value` as MODEL_ZOO.md prints it ("0.038", "40.2", "3x", "N/A"); "" when absent.
    public func format(_ value: IndexValue?) -> String {
        switch value {
        case .none, .some(.null): return ""
        case .some(.number(let x)):
            guard let decimals else { return IndexValue.format(number: x) }
            return String(format: "%.\(decimals)f", x)
        case .some(.string(let s)): return s
        case .some(let other): return other.description
        }
    }

    /// The header as plain text ("train time (s/iter)").
    public var plainHeader: String { header.replacingOccurrences(of: "<br/>", with: " ") }

    /// Orders metric names by table column, unknown names last.
    static func sortKey(_ name: String) -> (Int, String) {
        (all.firstIndex { $0.name == name } ?? all.count, name)
    }
}
