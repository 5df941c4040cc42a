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

    /// The records by path. Only an absent manifest (ENOENT) is empty; one that cannot be read
    /// (EACCES, EIO, a folder...) or is not valid JSON is an error, so no caller mistakes it for an
    /// empty cache and rewrites it without its records.
    func read() throws -> [String: CacheRecord] {
        guard let data = try readData() else { return [:] }
        do {
            let records = try JSONDecoder().decode([CacheRecord].self, from: data)
            return Dictionary(records.map { ($0.path, $0) }, uniquingKeysWith: { _, last in last })
        } catch {
            throw DownloadError.manifest(path: file.path, reason: "not valid JSON (\(error))")
        }
    }

    /// The manifest's bytes; nil only if it does not exist.
    private func readData() throws -> Data? {
        let path = file.path
        // O_NONBLOCK: a pipe named manifest.json must not hang zoo (it is refused below).
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw DownloadError.io(operation: "read", path: path, errno: errno)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw DownloadError.io(operation: "read", path: path, errno: errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw DownloadError.io(operation: "read", path: path, errno: (info.st_mode & S_IFMT) == S_IFDIR ? EISDIR : EINVAL)
        }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DownloadError.io(operation: "read", path: path, errno: errno)
            }
            if n == 0 { return data }
            data.append(contentsOf: buffer[0..<n])
        }
    }

    /// When the manifest is not valid JSON, renames it to `manifest.json.corrupt` (kept for the user:
    /// its sha256 pins cannot be recovered otherwise) and returns that path; nil when it is sound.
    /// A manifest that cannot be read at all (permissions, I/O) is reported, not moved.
    func setAsideIfUnreadable() throws -> String? {
        do {
            _ = try read()
            return nil
        } catch DownloadError.manifest {
            // Not valid JSON: set aside below.
        }
        let aside = root.appendingPathComponent("manifest.json.corrupt")
        let lock = try FileLock(path: lockFile.path)
        defer { lock.unlock() }
        _ = unlink(aside.path)
        guard rename(file.path, aside.path) == 0 else {
            throw DownloadError.io(operation: "rename", path: file.path, errno: errno)
        }
        return aside.path
    }

    /// Applies `change` to the records under the manifest lock and writes them back atomically.
    /// An unreadable manifest is an error (rewriting it would drop every record and sha256 pin);
    /// `zoo cache verify --fix` sets it aside first (`setAsideIfUnreadable`).
    func update(_ change: (inout [String: CacheRecord]) throws -> Void) throws {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let lock = try FileLock(path: lockFile.path)
        defer { lock.unlock() }
        var records = try read()
        try change(&records)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(records.values.sorted { $0.path < $1.path })
        try writeAtomically(data, to: file)
    }
}

/// Writes `data` over `url` with `MappedFile.writeAtomically` (temporary file, fsync, rename): a
/// crash leaves the old manifest or the new one, never a torn or unwritten one.
func writeAtomically(_ data: Data, to url: URL) throws {
    try MappedFile.writeAtomically(to: url) { write in try data.withUnsafeBytes { try write($0) } }
}

func isoNow() -> String {
    ISO8601DateFormatter().string(from: Date())
}
