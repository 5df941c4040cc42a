internal import CZooCrypto
import Foundation

/// An md5 or sha256 computed over bytes as they arrive (OpenSSL EVP), so a file is hashed while it is
/// written instead of in a second pass.
public final class StreamingDigest {
    /// The digests zoo uses: md5 for detectron2's file-name prefixes, sha256 for the cache manifest.
    public enum Algorithm: Sendable {
        case md5, sha256
    }

    /// The algorithm this digest computes.
    public let algorithm: Algorithm
    private let context: OpaquePointer

    /// Starts an empty digest.
    public init(_ algorithm: Algorithm) throws {
        self.algorithm = algorithm
        guard let context = EVP_MD_CTX_new() else { throw DownloadError.crypto(call: "EVP_MD_CTX_new") }
        self.context = context
        guard EVP_DigestInit_ex(context, Self.evp(algorithm), nil) == 1 else {
            EVP_MD_CTX_free(context)
            throw DownloadError.crypto(call: "EVP_DigestInit_ex")
        }
    }

    /// A digest in the same state as `other` (to try many endings after a shared beginning).
    public init(copying other: StreamingDigest) throws {
        algorithm = other.algorithm
        guard let context = EVP_MD_CTX_new() else { throw DownloadError.crypto(call: "EVP_MD_CTX_new") }
        self.context = context
        guard EVP_MD_CTX_copy_ex(context, other.context) == 1 else {
            EVP_MD_CTX_free(context)
            throw DownloadError.crypto(call: "EVP_MD_CTX_copy_ex")
        }
    }

    deinit { EVP_MD_CTX_free(context) }

    private static func evp(_ algorithm: Algorithm) -> OpaquePointer? {
        switch algorithm {
        case .md5: return EVP_md5()
        case .sha256: return EVP_sha256()
        }
    }

    /// Sets this digest to the state of `other` without allocating (a hot loop's reset).
    public func assign(from other: StreamingDigest) {
        precondition(other.algorithm == algorithm, "StreamingDigest.assign across algorithms")
        EVP_MD_CTX_copy_ex(context, other.context)
    }

    /// Adds `bytes` to the digest.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    /// Adds `data` to the digest.
    public func update(_ data: Data) {
        data.withUnsafeBytes { update($0) }
    }

    /// The raw digest (16 bytes for md5, 32 for sha256); the digest cannot be updated afterwards.
    public func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        out.withUnsafeMutableBufferPointer { buffer in
            _ = EVP_DigestFinal_ex(context, buffer.baseAddress, &length)
        }
        return Array(out.prefix(Int(length)))
    }

    /// Writes the raw digest to `out` (room for 64 bytes) without allocating; the digest cannot be
    /// updated afterwards.
    public func finalize(into out: UnsafeMutablePointer<UInt8>) {
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, out, &length)
    }

    /// The digest as lowercase hex; the digest cannot be updated afterwards.
    public func finalizeHex() -> String {
        hex(finalize())
    }
}

/// Lowercase hex of `bytes`.
func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0xf)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// The md5 and sha256 of a whole file, read once in 1 MiB blocks.
public struct FileDigests: Sendable, Equatable {
    /// Lowercase hex md5.
    public var md5: String
    /// Lowercase hex sha256.
    public var sha256: String
    /// Bytes hashed.
    public var size: Int64

    /// Hashes the file at `url` with both algorithms in one pass.
    public init(of url: URL) throws {
        let md5 = try StreamingDigest(.md5), sha = try StreamingDigest(.sha256)
        let size = try feedFile(at: url, into: [md5, sha])
        self.init(md5: md5.finalizeHex(), sha256: sha.finalizeHex(), size: size)
    }

    /// Digests already computed elsewhere (e.g. while downloading).
    public init(md5: String, sha256: String, size: Int64) {
        self.md5 = md5
        self.sha256 = sha256
        self.size = size
    }
}

/// The sha256 of the file at `url`, as lowercase hex.
public func sha256Hex(of url: URL) throws -> String {
    let digest = try StreamingDigest(.sha256)
    _ = try feedFile(at: url, into: [digest])
    return digest.finalizeHex()
}

/// The md5 of the file at `url`, as lowercase hex.
public func md5Hex(of url: URL) throws -> String {
    let digest = try StreamingDigest(.md5)
    _ = try feedFile(at: url, into: [digest])
    return digest.finalizeHex()
}

/// Reads the file at `url` (or its first `limit` bytes) into every digest; returns the bytes read.
@discardableResult
func feedFile(at url: URL, into digests: [StreamingDigest], limit: Int64 = .max) throws -> Int64 {
    let fd = open(url.path, O_RDONLY)
    guard fd >= 0 else { throw DownloadError.io(operation: "open", path: url.path, errno: errno) }
    defer { close(fd) }
    let blockSize = 1 << 20
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 16)
    defer { buffer.deallocate() }
    var total: Int64 = 0
    while total < limit {
        let want = Int(min(Int64(blockSize), limit - total))
        let n = read(fd, buffer.baseAddress, want)
        if n < 0 {
            if errno == EINTR { continue }
            throw DownloadError.io(operation: "read", path: url.path, errno: errno)
        }
        if n == 0 { break }
        let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<n])
        for digest in digests { digest.update(chunk) }
        total += Int64(n)
    }
    return total
}

/// The 6-hex md5 prefix detectron2 puts in checkpoint names (`model_final_280758.pkl` -> `280758`), if any.
public func md5Prefix(inFileName name: String) -> String? {
    let stem = name.split(separator: ".").first.map(String.init) ?? name
    guard let last = stem.split(separator: "_").last, last.count == 6, stem.contains("_") else { return nil }
    let hexDigits = Set("0123456789abcdef")
    return last.allSatisfy { hexDigits.contains($0) } ? String(last) : nil
}
