import Foundation
internal import CZooCrypto

/// SHA-256 through OpenSSL, for the source-file digest recorded in converted files and for
/// comparing tensors against manifests.
enum CheckpointDigest {
    /// Lowercase hex SHA-256 of `data`.
    static func sha256Hex(_ data: Data) -> String {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        data.withUnsafeBytes { raw in
            digest.withUnsafeMutableBufferPointer { out in
                _ = SHA256(raw.baseAddress?.assumingMemoryBound(to: UInt8.self), raw.count, out.baseAddress)
            }
        }
        return digest.map { String(format: "%02x", $0) }.joined()
    }
}
