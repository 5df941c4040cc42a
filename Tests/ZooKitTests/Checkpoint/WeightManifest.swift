import Foundation
@testable import ZooKit

/// A fixture `*.manifest.json` (or a section of `pickle_variants/expected.json`): per tensor its
/// shape and the sha256 of its float32 little-endian C-order bytes.
struct WeightManifest {
    struct Entry: Decodable {
        var shape: [Int]
        var dtype: String
        var sha256: String
    }

    var entries: [String: Entry]

    static let models = TestSupport.fixtures.appendingPathComponent("models")

    /// `models/<name>.manifest.json`.
    static func model(_ name: String) throws -> WeightManifest {
        let data = try Data(contentsOf: models.appendingPathComponent("\(name).manifest.json"))
        return WeightManifest(entries: try JSONDecoder().decode([String: Entry].self, from: data))
    }

    /// One section of `pickle_variants/expected.json`.
    static func variants(_ section: String) throws -> WeightManifest {
        let data = try Data(contentsOf: models.appendingPathComponent("pickle_variants/expected.json"))
        let all = try JSONDecoder().decode([String: [String: Entry]].self, from: data)
        return WeightManifest(entries: all[section] ?? [:])
    }

    /// sha256 of a tensor's float32 little-endian bytes, as the manifests hash them.
    static func sha256(_ tensor: Tensor) -> String {
        CheckpointDigest.sha256Hex(CheckpointArray(tensor).bytes)
    }

    /// The keys whose tensor is missing, misshapen or differs in any bit.
    func mismatches(_ tensors: [String: Tensor], keys: [String]? = nil) -> [String] {
        (keys ?? Array(entries.keys)).sorted().filter { key in
            guard let entry = entries[key], let tensor = tensors[key] else { return true }
            return tensor.shape != entry.shape || WeightManifest.sha256(tensor) != entry.sha256
        }
    }
}
