import Foundation
import ZooKit

/// Test-only access to the fixtures the geometry tests read: the intermediates (a minimal
/// safetensors reader, F32 and I64) and the golden JSON files.
enum GeometryFixtures {
    struct LoadError: Error, CustomStringConvertible {
        var description: String
    }

    /// Tensors of one intermediates file: F32 as `Tensor`, I64 as `[Int]`.
    struct Intermediates {
        var tensors: [String: Tensor] = [:]
        var integers: [String: [Int]] = [:]

        func tensor(_ name: String) throws -> Tensor {
            guard let t = tensors[name] else { throw LoadError(description: "no float32 tensor \(name) in intermediates") }
            return t
        }

        func array(_ name: String) throws -> [Int] {
            guard let a = integers[name] else { throw LoadError(description: "no int64 tensor \(name) in intermediates") }
            return a
        }
    }

    static let maskModel = "tiny_mask_rcnn_R_50_FPN"
    static let keypointModel = "tiny_keypoint_rcnn_R_50_FPN"
    static let maskImage = "img6_wide_960x300"
    static let keypointImage = "img3_640x427"

    static func intermediates(_ model: String, _ image: String) throws -> Intermediates {
        let url = TestSupport.fixtures.appendingPathComponent("intermediates/\(model)__\(image).safetensors")
        let data = try Data(contentsOf: url)
        guard data.count >= 8 else { throw LoadError(description: "\(url.path): too short") }
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        guard let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as? [String: Any] else {
            throw LoadError(description: "\(url.path): header is not a JSON object")
        }
        var result = Intermediates()
        let body = 8 + headerLength
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else { throw LoadError(description: "\(url.path): bad entry \(name)") }
            let bytes = data.subdata(in: (body + offsets[0])..<(body + offsets[1]))
            switch dtype {
            case "F32":
                let values = bytes.withUnsafeBytes { raw in
                    (0..<(bytes.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
                }
                result.tensors[name] = Tensor(shape: shape, scalars: values)
            case "I64":
                let values = bytes.withUnsafeBytes { raw in
                    (0..<(bytes.count / 8)).map { Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self))) }
                }
                result.integers[name] = values
            default:
                continue
            }
        }
        return result
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

/// A small deterministic generator (SplitMix64) so random tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
