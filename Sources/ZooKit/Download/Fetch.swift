import Foundation

/// Returns the verified cached file for a zoo weights URL, downloading it first if needed.
///
/// `url` is the canonical URL (`https://dl.fbaipublicfiles.com/detectron2/...`); the file is taken
/// from `options.mirror` if one is set. Order: the cache (size against the manifest), then, under a
/// per-file lock (a second process waits, then reuses the file), detectron2's own cache, then the
/// network. A file whose name carries no md5 prefix is pinned by the sha256 of its first verified
/// download, and later downloads must match it. Synchronous; call from several threads to fetch in
/// parallel (see `fetchAll`).
public func fetchWeights(url: String, md5Prefix: String?, options: FetchOptions) throws -> URL {
    try fetchFile(url: url, md5Prefix: md5Prefix, options: options, announcePin: true)
}

/// `fetchWeights` for any zoo file (e.g. metrics.json); `announcePin` says whether pinning by sha256 is noted.
public func fetchFile(url: String, md5Prefix: String?, options: FetchOptions, announcePin: Bool = false) throws -> URL {
    let cache = options.cache
    let destination = cache.path(forURL: url)
    let name = destination.lastPathComponent
    if !options.force, let hit = cache.cachedFile(forURL: url) { return hit }
    if options.offline {
        if let reused = try reuseUnrecorded(url: url, md5Prefix: md5Prefix, cache: cache) { return reused }
        throw DownloadError.offlineMiss(url: url, path: destination.path)
    }
    if let mirror = options.mirror, !FetchOptions.isUsableMirror(mirror) { throw DownloadError.badMirror(mirror) }
    try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
    let lock = try FileLock(path: destination.path + ".lock")
    defer { lock.unlock() }
    if options.force {
        // Start from zero; the old file stays until a verified new one replaces it.
        unlink(destination.path + ".part")
    } else {
        // Another process may have finished it while we waited for the lock.
        if let hit = cache.cachedFile(forURL: url) { return hit }
        if let reused = try reuseUnrecorded(url: url, md5Prefix: md5Prefix, cache: cache) { return reused }
    }
    let pin = cache.record(forURL: url).flatMap { $0.pinned ? $0.sha256 : nil }
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

/// A file already at its cache path but not in the manifest, or in detectron2's cache: verified
/// (md5 prefix, or the sha256 pin), recorded, and returned; nil if there is none that verifies.
private func reuseUnrecorded(url: String, md5Prefix: String?, cache: ModelCache) throws -> URL? {
    let destination = cache.path(forURL: url)
    let pin = cache.record(forURL: url).flatMap { $0.pinned ? $0.sha256 : nil }
    if FileManager.default.fileExists(atPath: destination.path), let digests = try? FileDigests(of: destination) {
        let good = md5Prefix.map { digests.md5.hasPrefix($0) } ?? (pin.map { $0 == digests.sha256 } ?? false)
        if good {
            try cache.record(url: url, digests: digests, pinned: md5Prefix == nil)
            return destination
        }
    }
    guard let (source, digests) = cache.detectron2Copy(forURL: url, md5Prefix: md5Prefix) else { return nil }
    try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
    let temp = destination.deletingLastPathComponent()
        .appendingPathComponent(".\(destination.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp")
    unlink(temp.path)
    // A hard link costs nothing on the same file system; otherwise copy, then rename into place.
    if link(source.path, temp.path) != 0 {
        do { try FileManager.default.copyItem(at: source, to: temp) } catch {
            unlink(temp.path)
            throw DownloadError.io(operation: "copy from detectron2's cache", path: source.path, errno: EIO)
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
