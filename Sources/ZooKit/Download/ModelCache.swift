import Foundation

/// zoo's download cache: `ZOO_CACHE`, else `$XDG_CACHE_HOME/zoo`, else `~/.cache/zoo`, laid out
/// like the URL path (`detectron2/<config>/<id>/<file>`), as detectron2's own iopath cache is.
public struct ModelCache: Sendable {
    /// The cache's root folder.
    public let root: URL
    /// detectron2's caches (`$FVCORE_CACHE`, `$IOPATH_CACHE`, `~/.torch/iopath_cache`,
    /// `~/.torch/fvcore_cache`), searched for a verified file before downloading.
    public let detectron2Roots: [URL]

    /// The cache the environment names (pass `ProcessInfo.processInfo.environment`).
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let home = URL(fileURLWithPath: environment["HOME"] ?? NSHomeDirectory())
        func nonEmpty(_ key: String) -> String? { environment[key].flatMap { $0.isEmpty ? nil : $0 } }
        if let zoo = nonEmpty("ZOO_CACHE") {
            root = URL(fileURLWithPath: zoo)
        } else if let xdg = nonEmpty("XDG_CACHE_HOME") {
            root = URL(fileURLWithPath: xdg).appendingPathComponent("zoo")
        } else {
            root = home.appendingPathComponent(".cache/zoo")
        }
        var others: [URL] = []
        if let fvcore = nonEmpty("FVCORE_CACHE") { others.append(URL(fileURLWithPath: fvcore)) }
        if let iopath = nonEmpty("IOPATH_CACHE") { others.append(URL(fileURLWithPath: iopath)) }
        others.append(home.appendingPathComponent(".torch/iopath_cache"))
        others.append(home.appendingPathComponent(".torch/fvcore_cache"))
        detectron2Roots = others
    }

    /// A cache at `root` (tests), with no detectron2 caches unless given.
    public init(root: URL, detectron2Roots: [URL] = []) {
        self.root = root
        self.detectron2Roots = detectron2Roots
    }

    /// Where `zoo run` keeps Winograd-transformed weights (`WinogradWeightCache`).
    public var winogradDirectory: URL { root.appendingPathComponent("winograd") }

    /// Whether `path` (below the root, as `files()` gives it) is one of `winogradDirectory`'s files.
    public static func isWinogradFile(_ path: String) -> Bool {
        path.hasPrefix("winograd/") && path.hasSuffix(".wino")
    }

    /// Whether `path` is a temporary file of an atomic write (`.<name>.<pid>.<random>.tmp`, or
    /// `<name>.<pid>.tmp` from older versions): one being written now, or left by a process that
    /// stopped before renaming it.
    public static func isTemporaryFile(_ path: String) -> Bool {
        path.hasSuffix(".tmp")
    }

    /// The URL's path below a cache root (what iopath's HTTPURLHandler uses), without `.`/`..`.
    public static func relativePath(forURL url: String) -> String {
        var path = URLComponents(string: url)?.path ?? url
        if path.isEmpty { path = url }
        let parts = path.split(separator: "/").filter { $0 != "." && $0 != ".." && !$0.isEmpty }
        return parts.isEmpty ? "unnamed" : parts.joined(separator: "/")
    }

    /// Where the file for `url` lives in this cache (whether or not it is there).
    public func path(forURL url: String) -> URL {
        root.appendingPathComponent(Self.relativePath(forURL: url))
    }

    /// The cached file for `url` if it is present and matches its manifest record (size), else nil
    /// (also when the manifest cannot be read; `fetchWeights` reports that instead).
    public func cachedFile(forURL url: String) -> URL? {
        guard let records = try? manifest.read() else { return nil }
        return cachedFile(forURL: url, records: records)
    }

    /// The cached file for `url` if it is present and matches its record in `records` (size).
    func cachedFile(forURL url: String, records: [String: CacheRecord]) -> URL? {
        let file = path(forURL: url)
        guard let record = records[Self.relativePath(forURL: url)], let size = fileSize(file), size == record.size else { return nil }
        return file
    }

    /// The manifest record for `url`, if any (nil also when the manifest cannot be read).
    public func record(forURL url: String) -> CacheRecord? {
        (try? manifest.read())?[Self.relativePath(forURL: url)]
    }

    /// The lock file `fetchWeights` holds while it fetches `file`, and `zoo cache rm` while it removes it.
    static func lockPath(for file: URL) -> String { file.path + ".lock" }

    /// All manifest records.
    public func records() throws -> [CacheRecord] {
        try manifest.read().values.sorted { $0.path < $1.path }
    }

    var manifest: CacheManifest { CacheManifest(root: root) }

    /// Records a verified file.
    func record(url: String, digests: FileDigests, pinned: Bool) throws {
        let record = CacheRecord(path: Self.relativePath(forURL: url), url: url, size: digests.size,
                                 sha256: digests.sha256, md5: digests.md5, pinned: pinned, verifiedAt: isoNow())
        try manifest.update { $0[record.path] = record }
    }

    /// Removes the records for these relative paths.
    public func removeRecords(paths: [String]) throws {
        try manifest.update { records in for p in paths { records[p] = nil } }
    }

    /// A verified copy of `url`'s file in one of detectron2's caches, if any (md5 prefix, or the
    /// sha256 `pin`, checked).
    func detectron2Copy(forURL url: String, md5Prefix: String?, pin: String?) -> (URL, FileDigests)? {
        let relative = Self.relativePath(forURL: url)
        for other in detectron2Roots {
            let candidate = other.appendingPathComponent(relative)
            guard FileManager.default.fileExists(atPath: candidate.path),
                  let digests = try? FileDigests(of: candidate) else { continue }
            if let md5Prefix, !digests.md5.hasPrefix(md5Prefix) { continue }
            if let pin, pin != digests.sha256 { continue }
            return (candidate, digests)
        }
        return nil
    }

    /// Every regular file below the root except zoo's own bookkeeping (manifest, locks, partial
    /// files' resume records); temporary files (`isTemporaryFile`) are included, so that leftovers show.
    public func files() -> [String] {
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        var out: [String] = []
        let rootPath = root.standardizedFileURL.path
        for case let url as URL in walker {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let name = url.lastPathComponent
            if name == "manifest.json" || name == "manifest.lock" || name.hasSuffix(".lock") || ResumeRecord.isSidecar(name) { continue }
            var path = url.standardizedFileURL.path
            if path.hasPrefix(rootPath + "/") { path.removeFirst(rootPath.count + 1) }
            out.append(path)
        }
        return out.sorted()
    }
}

/// Size of the regular file at `url`, or nil if absent.
func fileSize(_ url: URL) -> Int64? {
    var info = stat()
    guard stat(url.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
    return Int64(info.st_size)
}
