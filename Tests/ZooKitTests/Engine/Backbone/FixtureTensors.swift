import Foundation
@testable import ZooKit

/// Reads the fixtures' intermediate `.safetensors` files (F32, U8, I64 as Float) for the engine tests.
struct FixtureTensors {
    let tensors: [String: Tensor]

    init(_ url: URL) throws {
        let data = try Data(contentsOf: url)
        guard data.count >= 8 else { throw CocoaError(.fileReadCorruptFile) }
        let n = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as? [String: Any] ?? [:]
        var out: [String: Tensor] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int] else { continue }
            let bytes = data.subdata(in: (8 + n + offsets[0])..<(8 + n + offsets[1]))
            let count = shape.reduce(1, *)
            var values = [Float](repeating: 0, count: count)
            bytes.withUnsafeBytes { raw in
                for i in 0..<count {
                    switch dtype {
                    case "F32": values[i] = raw.loadUnaligned(fromByteOffset: 4 * i, as: Float.self)
                    case "U8": values[i] = Float(raw[i])
                    case "I64": values[i] = Float(raw.loadUnaligned(fromByteOffset: 8 * i, as: Int64.self))
                    default: break
                    }
                }
            }
            out[name] = Tensor(shape: shape, scalars: values)
        }
        tensors = out
    }

    func callAsFunction(_ name: String) throws -> Tensor {
        guard let t = tensors[name] else { throw EngineError.missingWeight(key: name) }
        return t
    }

    /// `input.image_bgr_u8` minus the BGR pixel mean, zero-padded to multiples of 32, as `[1, 3, H, W]`.
    func normalisedImage() throws -> Tensor {
        let img = try self("input.image_bgr_u8")
        let h = img.shape[1], w = img.shape[2]
        let ph = (h + 31) / 32 * 32, pw = (w + 31) / 32 * 32
        let mean: [Float] = [103.53, 116.28, 123.675]
        var out = Tensor(shape: [1, 3, ph, pw])
        for c in 0..<3 { for y in 0..<h { for x in 0..<w {
            out.scalars[(c * ph + y) * pw + x] = img.scalars[(c * h + y) * w + x] - mean[c]
        } } }
        return out
    }
}

extension Tensor {
    /// Rows `range` of the outermost dimension.
    func rows(_ range: Range<Int>) -> Tensor {
        let per = shape.dropFirst().reduce(1, *)
        return Tensor(shape: [range.count] + shape.dropFirst(), scalars: Array(scalars[(range.lowerBound * per)..<(range.upperBound * per)]))
    }
}
