import Foundation

/// Returns the verified cached file for a zoo weights URL, downloading it first if needed.
///
/// `url` is the canonical URL (`https://dl.fbaipublicfiles.com/detectron2/...`); the file is taken
/// from `options.mirror` if one is set. Order: the cache (size against the manifest), then, under a
/// per-file lock (a second process waits, then reuses the file), detectron2's own cache, then the
/// network. A file whose name carries no md5 prefix is pinned by the sha256 of its first verified
/// download, and later downloads must match it; a manifest that cannot be read is an error before
/// any download (`zoo cache verify --fix` repairs one that is not valid JSON). Synchronous; call
/// from several threads to fetch in parallel (see `fetchAll`).
public func fetchWeights(url: String, md5Prefix: String?, options: FetchOptions) throws -> URL {
    try fetchFile(url: url, md5Prefix: md5Prefix, options: options, announcePin: true)
}

/// `fetchWeights` for any zoo file (e.g. metrics.json); `announcePin` says whether pinning by sha256 is noted.
public func fetchFile(url: String, md5Prefix: String?, options: FetchOptions, announcePin: Bool = false) throws -> URL {
    let cache = options.cache
    let destination = cache.path(forURL: url)
    let name = destination.lastPathComponent
    // Strictly: a manifest read as empty would hide the sha256 pin and let a download replace the file.
    var records = try cache.manifest.read()
    if !options.force, let hit = cache.cachedFile(forURL: url, records: records) { return hit }
    if options.offline {
        if let reused = try reuseUnrecorded(url: url, md5Prefix: md5Prefix, cache: cache, pin: pinnedSHA256(of: url, in: records)) { return reused }
        throw DownloadError.offlineMiss(url: url, path: destination.path)
    }
    if let mirror = options.mirror, !FetchOptions.isUsableMirror(mirror) { throw DownloadError.badMirror(mirror) }
    try makeDirectories(destination.deletingLastPathComponent())
    let lock = try FileLock(path: ModelCache.lockPath(for: destination))
    defer { lock.unlock() }
    // Another process may have finished (or recorded) it while we waited for the lock.
    records = try cache.manifest.read()
    let pin = pinnedSHA256(of: url, in: records)
    if options.force {
        // Start from zero; the old file stays until a verified new one replaces it.
        removePartial(destination.path + ".part")
    } else {
        if let hit = cache.cachedFile(forURL: url, records: records) { return hit }
        if let reused = try reuseUnrecorded(url: url, md5Prefix: md5Prefix, cache: cache, pin: pin) { return reused }
    }
    let board = options.progress
    let line = board?.addLine(name)
    defer { if let line { board?.finish(line) } }
    let result = try Downloader.download(url: options.sourceURL(for: url), to: destination, md5Prefix: md5Prefix,
                                         sha256: md5Prefix == nil ? pin : nil, options: options) { done, total in
        if let line { board?.update(line, done: done, total: total) }
    }
    if md5Prefix == nil {
        if pin == nil, announcePin {
            options.note?("note: \(name) has no md5 in its name; pinned by the sha256 of this first download (\(result.digests.sha256))")
        }
    }
    try cache.record(url: url, digests: result.digests, pinned: md5Prefix == nil)
    return destination
}

/// The sha256 that `records` pin `url`'s file to, if any.
private func pinnedSHA256(of url: String, in records: [String: CacheRecord]) -> String? {
    records[ModelCache.relativePath(forURL: url)].flatMap { $0.pinned ? $0.sha256 : nil }
}

/// A file already at its cache path but not in the manifest, or in detectron2's cache: verified
/// (md5 prefix, or the sha256 `pin`), recorded, and returned; nil if there is none that verifies.
private func reuseUnrecorded(url: String, md5Prefix: String?, cache: ModelCache, pin: String?) throws -> URL? {
    let destination = cache.path(forURL: url)
    if FileManager.default.fileExists(atPath: destination.path), let digests = try? FileDigests(of: destination) {
        let good = md5Prefix.map { digests.md5.hasPrefix($0) } ?? (pin.map { $0 == digests.sha256 } ?? false)
        if good {
            try cache.record(url: url, digests: digests, pinned: md5Prefix == nil)
            return destination
        }
    }
    guard let (source, digests) = cache.detectron2Copy(forURL: url, md5Prefix: md5Prefix, pin: pin) else { return nil }
    try makeDirectories(destination.deletingLastPathComponent())
    let temp = destination.deletingLastPathComponent()
        .appendingPathComponent(".\(destination.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
    unlink(temp.path)
    // A hard link costs nothing on the same file system; otherwise copy, then rename into place.
    if link(source.path, temp.path) != 0 {
        do { try copyFile(from: source.path, to: temp.path) } catch {
            unlink(temp.path)
            throw error
        }
    }
    guard rename(temp.path, destination.path) == 0 else {
        let code = errno
        unlink(temp.path)
        throw DownloadError.io(operation: "rename", path: destination.path, errno: code)
    }
    try cache.record(url: url, digests: digests, pinned: md5Prefix == nil)
    return destination
}

/// Copies the file at `source` to a new file `target` (fsynced); the error names the side that
/// failed and its errno.
func copyFile(from source: String, to target: String) throws {
    let input = open(source, O_RDONLY | O_CLOEXEC)
    guard input >= 0 else { throw DownloadError.io(operation: "copy from detectron2's cache: open", path: source, errno: errno) }
    defer { close(input) }
    let output = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard output >= 0 else { throw DownloadError.io(operation: "copy from detectron2's cache: create", path: target, errno: errno) }
    var closed = false
    defer { if !closed { close(output) } }
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    while true {
        let n = buffer.withUnsafeMutableBytes { Foundation.read(input, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw DownloadError.io(operation: "copy from detectron2's cache: read", path: source, errno: errno)
        }
        if n == 0 { break }
        var done = 0
        while done < n {
            let m = buffer.withUnsafeBytes { Foundation.write(output, $0.baseAddress.map { $0 + done }, n - done) }
            if m < 0 {
                if errno == EINTR { continue }
                throw DownloadError.io(operation: "copy from detectron2's cache: write", path: target, errno: errno)
            }
            done += m
        }
    }
    guard fsync(output) == 0 || errno == EINVAL || errno == EROFS || errno == ENOTSUP else {
        throw DownloadError.io(operation: "copy from detectron2's cache: fsync", path: target, errno: errno)
    }
    closed = true
    guard close(output) == 0 else { throw DownloadError.io(operation: "copy from detectron2's cache: close", path: target, errno: errno) }
}

/// One file to fetch with `fetchAll`.
public struct FetchRequest: Sendable {
    /// Canonical URL.
    public var url: String
    /// The md5 prefix from the file name, if any.
    public var md5Prefix: String?
    /// Note "pinned by sha256" when the file has no md5 prefix.
    public var announcePin: Bool

    /// A request for `url`, verified by `md5Prefix` if given.
    public init(url: String, md5Prefix: String?, announcePin: Bool = true) {
        self.url = url
        self.md5Prefix = md5Prefix
        self.announcePin = announcePin
    }
}

/// Fetches every request with at most `maxParallel` transfers at once; results in request order.
public func fetchAll(_ requests: [FetchRequest], options: FetchOptions, maxParallel: Int = 4) -> [Result<URL, Error>] {
    final class Slots: @unchecked Sendable {
        let lock = NSLock()
        var next = 0
        var results: [Result<URL, Error>?]
        init(count: Int) { results = Array(repeating: nil, count: count) }
        func take() -> Int? {
            lock.lock(); defer { lock.unlock() }
            guard next < results.count else { return nil }
            next += 1
            return next - 1
        }
        func put(_ i: Int, _ r: Result<URL, Error>) { lock.lock(); results[i] = r; lock.unlock() }
    }
    let slots = Slots(count: requests.count)
    let group = DispatchGroup()
    for _ in 0..<max(1, min(maxParallel, requests.count)) {
        group.enter()
        let thread = Thread {
            while let i = slots.take() {
                let r = requests[i]
                slots.put(i, Result { try fetchFile(url: r.url, md5Prefix: r.md5Prefix, options: options, announcePin: r.announcePin) })
            }
            group.leave()
        }
        thread.start()
    }
    group.wait()
    return slots.results.map { $0 ?? .failure(DownloadError.transferFailed(url: "?", reason: "not attempted", attempts: 0)) }
}
