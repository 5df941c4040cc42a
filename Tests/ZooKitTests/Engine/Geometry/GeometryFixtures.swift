import Foundation
import ZooKit

/// Test-only access to the fixtures the geometry tests read: the intermediates (through the
/// project's `SafetensorsFile`) and the golden JSON files.
enum GeometryFixtures {
    struct LoadError: Error, CustomStringConvertible {
        var description: String
    }

    /// One intermediates file: float32 tensors, and int64 ones as `[Int]`.
    struct Intermediates {
        var file: SafetensorsFile

        func tensor(_ name: String) throws -> Tensor { try file.tensor(name) }

        /// Small int64 values (class indices) are exact through float32.
        func array(_ name: String) throws -> [Int] { try file.tensor(name).scalars.map { Int($0) } }
    }

    static let maskModel = "tiny_mask_rcnn_R_50_FPN"
    static let keypointModel = "tiny_keypoint_rcnn_R_50_FPN"
    static let maskImage = "img6_wide_960x300"
    static let keypointImage = "img3_640x427"

    static func intermediates(_ model: String, _ image: String) throws -> Intermediates {
        Intermediates(file: try SafetensorsFile(
            contentsOf: TestSupport.fixtures.appendingPathComponent("intermediates/\(model)__\(image).safetensors")))
    }

    /// A golden JSON file as a dictionary.
    static func golden(_ model: String, _ image: String) throws -> [String: Any] {
        let url = TestSupport.fixtures.appendingPathComponent("golden/\(model)__\(image).json")
        guard let object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] else {
            throw LoadError(description: "\(url.path): not a JSON object")
        }
        return object
    }

    static func instances(_ golden: [String: Any]) -> [[String: Any]] {
        golden["instances"] as? [[String: Any]] ?? []
    }

    static func preprocess(_ golden: [String: Any]) -> (resizedHeight: Int, resizedWidth: Int, height: Int, width: Int) {
        let p = golden["preprocess"] as? [String: Any] ?? [:]
        return (p["resized_height"] as? Int ?? 0, p["resized_width"] as? Int ?? 0,
                golden["image_height"] as? Int ?? 0, golden["image_width"] as? Int ?? 0)
    }

    static func floats(_ value: Any?) -> [Float] {
        (value as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.floatValue }
    }

    static func boxes(_ t: Tensor) -> [Box] {
        stride(from: 0, to: t.count, by: 4).map {
            Box(x0: t.scalars[$0], y0: t.scalars[$0 + 1], x1: t.scalars[$0 + 2], y1: t.scalars[$0 + 3])
        }
    }

    /// FPN levels P2..P6 of an intermediates file.
    static func rpnInputs(_ i: Intermediates) throws -> (logits: [Tensor], deltas: [Tensor]) {
        let levels = (2...6).map { "p\($0)" }
        return (try levels.map { try i.tensor("rpn.objectness_logits.\($0)") },
                try levels.map { try i.tensor("rpn.anchor_deltas.\($0)") })
    }

    /// `max|a - b| / max|b|` (fixtures README 7.5).
    static func relativeError(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "relativeError: \(a.count) vs \(b.count) values")
        var maxDiff: Float = 0, maxRef: Float = 0
        for (x, y) in zip(a, b) {
            maxDiff = max(maxDiff, abs(x - y))
            maxRef = max(maxRef, abs(y))
        }
        return maxRef == 0 ? maxDiff : maxDiff / maxRef
    }

    static func maxAbsDiff(_ a: [Box], _ b: [Box]) -> Float {
        zip(a, b).reduce(0) { m, p in
            max(m, abs(p.0.x0 - p.1.x0), abs(p.0.y0 - p.1.y0), abs(p.0.x1 - p.1.x1), abs(p.0.y1 - p.1.y1))
        }
    }
}

