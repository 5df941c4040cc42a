import Foundation

/// One file in the cache as `zoo cache ls` shows it.
public struct CacheFileStatus: Codable, Sendable, Equatable {
    /// Path below the cache root.
    public var path: String
    /// Bytes on disk.
    public var size: Int64
    /// "verified" (matches its record), "pinned" (verified; sha256 of its first download is its only
    /// checksum), "changed" (size differs from its record), "unverified" (no record), "partial" (*.part),
    /// "derived" (`winograd/*.wino`: transformed weights `zoo run` made and rebuilds when missing),
    /// "temporary" (`.*.tmp`: a file being written, or left by a process that stopped before
    /// renaming it; `zoo run` removes stale Winograd ones after an hour, `zoo cache rm --all` all).
    public var state: String
    /// sha256 from the record, if any.
    public var sha256: String?
    /// The URL it was fetched for, if recorded.
    public var url: String?
}

/// Lists the cache's files with their state.
public struct CacheListing {
    /// The cache to list.
    public let cache: ModelCache

    /// A listing of `cache`.
    public init(cache: ModelCache) {
        self.cache = cache
    }

    /// Every file (including partial downloads), sorted by path.
    public func rows() throws -> [CacheFileStatus] {
        let records = try cache.manifest.read()
        return cache.files().map { path in
            let size = fileSize(cache.root.appendingPathComponent(path)) ?? 0
            if path.hasSuffix(".part") {
                return CacheFileStatus(path: path, size: size, state: "partial", sha256: nil, url: nil)
            }
            if ModelCache.isTemporaryFile(path) {
                return CacheFileStatus(path: path, size: size, state: "temporary", sha256: nil, url: nil)
            }
            if ModelCache.isWinogradFile(path) {
                return CacheFileStatus(path: path, size: size, state: "derived", sha256: nil, url: nil)
            }
            guard let record = records[path] else {
                return CacheFileStatus(path: path, size: size, state: "unverified", sha256: nil, url: nil)
            }
            let state = record.size != size ? "changed" : (record.pinned ? "pinned" : "verified")
            return CacheFileStatus(path: path, size: size, state: state, sha256: record.sha256, url: record.url)
        }
    }
}

/// What `zoo cache verify` found.
public struct CacheVerifyReport: Sendable {
    /// One line per file: `ok`, `CORRUPT` (with expected and actual), or `no checksum`. Winograd
    /// weight files (`winograd/*.wino`) have no record; their headers and payload hashes are checked.
    public var lines: [String] = []
    /// Files that matched.
    public var ok = 0
    /// Files that did not match, or could not be read (those are never removed).
    public var corrupt = 0
    /// Files with neither a record nor an md5 in their name.
    public var unverifiable = 0
}

/// Re-hashes every cached file against its manifest record, or the md5 prefix in its name.
public struct CacheVerifier {
    /// The cache to check.
    public let cache: ModelCache

    /// A verifier for `cache`.
    public init(cache: ModelCache) {
        self.cache = cache
    }

    /// Checks every file; with `fix`, deletes corrupt ones (their records go too, except sha256 pins)
    /// and records verified files the manifest lacks.
    public func run(fix: Bool) throws -> CacheVerifyReport {
        var report = CacheVerifyReport()
        if fix, let aside = try cache.manifest.setAsideIfUnreadable() {
            report.lines.append("manifest.json was not valid JSON: moved to \(aside); records are rebuilt from the files whose names carry an md5")
        }
        let records = try cache.manifest.read()
        var dropped: [String] = []
        var added: [CacheRecord] = []
        for path in cache.files() where !path.hasSuffix(".part") && !ModelCache.isTemporaryFile(path) {
            let file = cache.root.appendingPathComponent(path)
            if ModelCache.isWinogradFile(path) {
                if let problem = WinogradWeightCache.problem(of: file) {
                    report.corrupt += 1
                    report.lines.append("CORRUPT  \(path): \(problem)\(fix ? " (removed; zoo run makes it again)" : "")")
                    if fix, unlink(file.path) != 0 { throw DownloadError.io(operation: "unlink", path: file.path, errno: errno) }
                } else {
                    report.ok += 1
                    report.lines.append("ok  \(path) (Winograd weights; header and payload hash checked)")
                }
                continue
            }
            let digests: FileDigests
            do {
                digests = try FileDigests(of: file)
            } catch {
                // One unreadable file must not hide the others' state; it is not removed.
                report.corrupt += 1
                report.lines.append("UNREADABLE  \(path): \(error)")
                continue
            }
            var problem: String?
            if let record = records[path] {
                if record.size != digests.size {
                    problem = "expected \(record.size) bytes, found \(digests.size)"
                } else if record.sha256 != digests.sha256 {
                    problem = "expected sha256 \(record.sha256), actual \(digests.sha256)"
                }
            } else if let prefix = md5Prefix(inFileName: file.lastPathComponent) {
                if !digests.md5.hasPrefix(prefix) {
                    problem = "expected md5 \(prefix)..., actual \(digests.md5)"
                } else {
                    added.append(CacheRecord(path: path, url: FetchOptions.canonicalBase + path, size: digests.size,
                                             sha256: digests.sha256, md5: digests.md5, pinned: false, verifiedAt: isoNow()))
                }
            } else {
                report.unverifiable += 1
                report.lines.append("no checksum  \(path)")
                continue
            }
            if let problem {
                report.corrupt += 1
                report.lines.append("CORRUPT  \(path): \(problem)\(fix ? " (removed)" : "")")
                if fix {
                    guard unlink(file.path) == 0 else { throw DownloadError.io(operation: "unlink", path: file.path, errno: errno) }
                    if records[path]?.pinned != true { dropped.append(path) }
                }
            } else {
                report.ok += 1
                report.lines.append("ok  \(path)")
            }
        }
        if fix, !(dropped.isEmpty && added.isEmpty) {
            try cache.manifest.update { records in
                for path in dropped { records[path] = nil }
                for record in added { records[record.path] = record }
            }
        }
        return report
    }
}
