import Foundation
import CZooCrypto
@testable import ZooKit

/// Fixture images and their golden facts (Tests/Fixtures/golden, README sections 2 and 3).
enum ImagingFixtures {
    static let images = ["img1_320x480.png", "img2_457x333.jpg", "img3_640x427.png",
                         "img4_gray_500x375.png", "img5_tiny_64x48.png", "img6_wide_960x300.jpg"]

    static func imageURL(_ name: String) -> URL {
        TestSupport.fixtures.appendingPathComponent("images/\(name)")
    }

    /// The lossless copy of what OpenCV decoded for a JPEG, the image itself for a PNG.
    static func exactInputURL(_ name: String) -> URL {
        name.hasSuffix(".jpg") ? imageURL("decoded/\(name).png") : imageURL(name)
    }

    struct Golden: Decodable {
        struct Decoded: Decodable { var sha256: String }
        struct Preprocess: Decodable {
            var min_size_test: Int
            var max_size_test: Int
            var resized_height: Int
            var resized_width: Int
            var resized_sha256: String
            var padded_height: Int
            var padded_width: Int
            var pixel_mean_bgr: [Float]
            var pixel_std_bgr: [Float]
        }
        var image_width: Int
        var image_height: Int
        var decoded: Decoded
        var preprocess: Preprocess
    }

    static func golden(_ image: String, model: String = "tiny_faster_rcnn_R_50_FPN") throws -> Golden {
        let stem = (image as NSString).deletingPathExtension
        let url = TestSupport.fixtures.appendingPathComponent("golden/\(model)__\(stem).json")
        return try JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
    }

    static func sha256Hex(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        bytes.withUnsafeBufferPointer { buf in _ = SHA256(buf.baseAddress, buf.count, &digest) }
        return digest.map { String(format: "%02x", $0) }.joined()
    }

    /// One uint8 tensor of a safetensors file (enough of the format for the intermediates).
    static func safetensorsU8(_ url: URL, name: String) throws -> (shape: [Int], bytes: [UInt8])? {
        let data = try Data(contentsOf: url)
        guard data.count >= 8 else { return nil }
        let n = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as? [String: Any]
        guard let entry = header?[name] as? [String: Any], entry["dtype"] as? String == "U8",
              let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int],
              offsets.count == 2 else { return nil }
        return (shape, [UInt8](data.subdata(in: (8 + n + offsets[0])..<(8 + n + offsets[1]))))
    }
}
