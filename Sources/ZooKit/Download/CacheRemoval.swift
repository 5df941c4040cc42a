import Foundation

/// What `CacheRemoval.removeAll` did.
public struct CacheRemovalSummary: Sendable, Equatable {
    /// Files removed, as `ModelCache.files()` counts them (not the manifest, locks or resume records).
    public var removed: Int
    /// Entries at the cache's top level that zoo did not make, left in place (names, sorted).
    public var kept: [String]
}

/// Removing files from the cache as `zoo cache rm` does: each file under the lock a fetch of it
/// holds (taken without waiting: a fetch in progress makes the removal refuse), files only.
public struct CacheRemoval {
    /// The cache to remove from.
    public let cache: ModelCache

    /// Removal from `cache`.
    public init(cache: ModelCache) {
        self.cache = cache
    }

    /// Removes `url`'s cached file, its partial download (and resume record) and its manifest record,
    /// holding the file's lock; the lock file goes last, while still held. Returns the paths of the
    /// files removed (empty if nothing was cached). Throws `DownloadError.inUse` if a fetch holds the
    /// lock and `DownloadError.notAFile` if the path is a folder; nothing is removed then.
    public func remove(url: String) throws -> [String] {
        let file = cache.path(forURL: url)
        if let kind = Self.nonFileKind(file.path) { throw DownloadError.notAFile(path: file.path, kind: kind) }
        var info = stat()
        guard stat(file.deletingLastPathComponent().path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
            try cache.removeRecords(paths: [ModelCache.relativePath(forURL: url)])
            return []
        }
        guard let lock = try FileLock.attempt(path: ModelCache.lockPath(for: file)) else { throw DownloadError.inUse(file: file.path) }
        // Checked again under the lock (released by its deinit on a throw): a fetch may have made
        // it meanwhile (it makes files only).
        if let kind = Self.nonFileKind(file.path) { throw DownloadError.notAFile(path: file.path, kind: kind) }
        var removed: [String] = []
        for path in [file.path, file.path + ".part"] {
            if try Self.unlinkIfPresent(path) { removed.append(path) }
        }
        ResumeRecord.remove(forPart: file.path + ".part")
        defer { lock.removeAndUnlock() }
        try cache.removeRecords(paths: [ModelCache.relativePath(forURL: url)])
        return removed
    }

    /// Removes zoo's own entries from the cache and leaves everything else: `detectron2/` and
    /// `winograd/`, the files the manifest records, and at the top of the cache `manifest.*`,
    /// partial downloads (`*.part`, their resume records), lock files and zoo's temporary files
    /// (inside another folder such names are left alone). Takes every lock first; if a fetch holds
    /// one, throws `DownloadError.inUse` and removes nothing. A folder without zoo's manifest,
    /// `detectron2/` or `winograd/` is refused (`DownloadError.notACache`).
    public func removeAll() throws -> CacheRemovalSummary {
        let root = cache.root.path
        guard let children = try? FileManager.default.contentsOfDirectory(atPath: root), !children.isEmpty else {
            return CacheRemovalSummary(removed: 0, kept: [])
        }
        guard !Set(children).isDisjoint(with: ["manifest.json", "manifest.lock", "winograd", "detectron2"]) else {
            throw DownloadError.notACache(path: root)
        }
        let manifestLock = try FileLock(path: cache.manifest.lockFile.path)
        let recorded = Set(((try? cache.manifest.read()) ?? [:]).keys)
        var locks: [FileLock] = []
        var doomed: [String] = []
        var folders: Set<String> = []
        for (relative, isFolder) in Self.walk(root) {
            let name = (relative as NSString).lastPathComponent
            let ours = relative == "detectron2" || relative.hasPrefix("detectron2/") || relative == "winograd" || relative.hasPrefix("winograd/")
            if isFolder {
                if ours { folders.insert(relative) }
                continue
            }
            if relative == "manifest.lock" { continue }
            // Zoo's names count in zoo's folders and at the top only, never inside another folder.
            let topLevel = !relative.contains("/")
            if name.hasSuffix(".lock"), ours || topLevel {
                // On a throw, the locks taken so far are released by their deinit.
                guard let lock = try FileLock.attempt(path: root + "/" + relative) else {
                    throw DownloadError.inUse(file: root + "/" + String(relative.dropLast(".lock".count)))
                }
                locks.append(lock)
                continue
            }
            let topLevelManifest = topLevel && name.hasPrefix("manifest.")
            let zooNamed = name.hasSuffix(".part") || ResumeRecord.isSidecar(name) || Self.isZooTemporary(name)
            if ours || topLevelManifest || recorded.contains(relative) || (topLevel && zooNamed) {
                doomed.append(relative)
            }
        }
        var removed = 0
        for relative in doomed {
            let name = (relative as NSString).lastPathComponent
            if try Self.unlinkIfPresent(root + "/" + relative), name != "manifest.json", !ResumeRecord.isSidecar(name) { removed += 1 }
            var parent = (relative as NSString).deletingLastPathComponent
            while !parent.isEmpty {
                folders.insert(parent)
                parent = (parent as NSString).deletingLastPathComponent
            }
        }
        for lock in locks { lock.removeAndUnlock() }
        // Deepest first; a folder that still holds something (not zoo's, or new) stays.
        for folder in folders.sorted(by: { $0.count > $1.count }) { rmdir(root + "/" + folder) }
        manifestLock.removeAndUnlock()
        let kept = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted()
        return CacheRemovalSummary(removed: removed, kept: kept)
    }

    /// Every entry below `root` as (relative path, is a folder), without following symbolic links.
    private static func walk(_ root: String) -> [(String, Bool)] {
        var out: [(String, Bool)] = []
        var pending = [""]
        while let relative = pending.popLast() {
            let folder = relative.isEmpty ? root : root + "/" + relative
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { continue }
            for name in names.sorted() {
                let child = relative.isEmpty ? name : relative + "/" + name
                var info = stat()
                guard lstat(root + "/" + child, &info) == 0 else { continue }
                let isFolder = (info.st_mode & S_IFMT) == S_IFDIR
                out.append((child, isFolder))
                if isFolder { pending.append(child) }
            }
        }
        return out
    }

    /// `.<name>.<pid>.<random>.tmp`, or `<name>.<pid>.tmp` from older versions: zoo's atomic writes.
    static func isZooTemporary(_ name: String) -> Bool {
        guard name.hasSuffix(".tmp") else { return false }
        if name.hasPrefix(".") { return true }
        let parts = name.split(separator: ".")
        return parts.count >= 3 && parts[parts.count - 2].allSatisfy(\.isNumber)
    }

    /// "a folder" or "a special file ..." if `path` exists and is neither a file nor a symbolic link.
    private static func nonFileKind(_ path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG, S_IFLNK: return nil
        case S_IFDIR: return "a folder"
        default: return "a special file (a device, socket or pipe)"
        }
    }

    /// Unlinks `path`; false if it was not there.
    private static func unlinkIfPresent(_ path: String) throws -> Bool {
        if unlink(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw DownloadError.io(operation: "unlink", path: path, errno: errno)
    }
}
