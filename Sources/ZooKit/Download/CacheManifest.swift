import Foundation

/// What the cache knows about one verified file: size and sha256 (checked cheaply later), its md5,
/// where it came from, and whether its sha256 is the only pin (no md5 prefix in its name).
public struct CacheRecord: Codable, Sendable, Equatable {
    /// Path below the cache root (`detectron2/<config>/<id>/<file>`).
    public var path: String
    /// The canonical URL the file was fetched for.
    public var url: String
    /// Bytes.
    public var size: Int64
    /// Lowercase hex sha256 of the verified file.
    public var sha256: String
    /// Lowercase hex md5 of the verified file.
    public var md5: String
    /// True when the name carries no md5 prefix and this sha256 (of the first verified download) is the pin.
    public var pinned: Bool
    /// When it was verified (ISO 8601).
    public var verifiedAt: String
}

/// The cache's `manifest.json`: one record per verified file. Read without a lock (it is replaced
/// atomically); changed only under `manifest.lock`.
struct CacheManifest {
    let root: URL
    var file: URL { root.appendingPathComponent("manifest.json") }
    var lockFile: URL { root.appendingPathComponent("manifest.lock") }

    /// The records by path; an absent manifest is empty, an unreadable one is an error.
    func read() throws -> [String: CacheRecord] {
        guard let data = try? Data(contentsOf: file) else { return [:] }
        do {
            let records = try JSONDecoder().decode([CacheRecord].self, from: data)
            return Dictionary(records.map { ($0.path, $0) }, uniquingKeysWith: { _, last in last })
        } catch {
            throw DownloadError.manifest(path: file.path, reason: "not valid JSON (\(error))")
        }
    }

    /// Applies `change` to the records under the manifest lock and writes them back atomically.
    func update(_ change: (inout [String: CacheRecord]) throws -> Void) throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let lock = try FileLock(path: lockFile.path)
        defer { lock.unlock() }
        var records = (try? read()) ?? [:]
        try change(&records)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(records.values.sorted { $0.path < $1.path })
        try writeAtomically(data, to: file)
    }
}

/// Writes `data` to a temporary file beside `url`, flushes it to disk, then renames it over
/// `url`: a crash leaves the old manifest or the new one, never a torn or unwritten one.
func writeAtomically(_ data: Data, to url: URL) throws {
    let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp").path
    let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw DownloadError.io(operation: "create", path: temp, errno: errno) }
    func fail(_ operation: String, _ code: Int32, closing: Bool) -> DownloadError {
        if closing { close(fd) }
        unlink(temp)
        return DownloadError.io(operation: operation, path: temp, errno: code)
    }
    var offset = 0
    let failure: (String, Int32)? = data.withUnsafeBytes { raw -> (String, Int32)? in
        while offset < raw.count, let base = raw.baseAddress {
            let written = write(fd, base + offset, raw.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                return ("write", errno)
            }
            offset += written
        }
        return nil
    }
    if let failure { throw fail(failure.0, failure.1, closing: true) }
    if fsync(fd) != 0, errno != EINVAL, errno != EROFS, errno != ENOTSUP { throw fail("fsync", errno, closing: true) }
    guard close(fd) == 0 else { throw fail("close", errno, closing: false) }
    guard rename(temp, url.path) == 0 else {
        let code = errno
        unlink(temp)
        throw DownloadError.io(operation: "rename", path: url.path, errno: code)
    }
}

func isoNow() -> String {
    ISO8601DateFormatter().string(from: Date())
}
