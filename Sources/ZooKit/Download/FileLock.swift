import Foundation

/// An exclusive advisory lock (flock) on a lock file, held until `unlock` or deinit, so two zoo
/// processes (or two threads) fetching the same file take turns instead of writing one partial file.
/// A lock taken on a lock file that was removed or replaced meanwhile is dropped and taken again
/// on the file now at `path`, so the holder may remove the lock file (`zoo cache rm` does).
final class FileLock {
    let path: String
    private var fd: Int32

    /// Waits until the lock on `path` (created if absent) is ours; Ctrl-C while waiting throws
    /// `DownloadError.interruptedWaiting` (polling, because the SIGINT handler keeps flock from
    /// returning EINTR).
    init(path: String) throws {
        self.path = path
        fd = -1
        while true {
            let candidate = try Self.open(path)
            while flock(candidate, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                guard code == EWOULDBLOCK || code == EINTR else {
                    close(candidate)
                    throw DownloadError.io(operation: "flock", path: path, errno: code)
                }
                if Interrupts.isInterrupted {
                    close(candidate)
                    throw DownloadError.interruptedWaiting(file: Self.lockedFile(path))
                }
                usleep(50_000)
            }
            if Self.isCurrent(candidate, path: path) {
                fd = candidate
                return
            }
            close(candidate)
        }
    }

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    /// The lock on `path` (created if absent) if it is free now; nil if another process or thread holds it.
    static func attempt(path: String) throws -> FileLock? {
        while true {
            let candidate = try open(path)
            if flock(candidate, LOCK_EX | LOCK_NB) != 0 {
                let code = errno
                close(candidate)
                guard code == EWOULDBLOCK || code == EINTR else { throw DownloadError.io(operation: "flock", path: path, errno: code) }
                return nil
            }
            if isCurrent(candidate, path: path) { return FileLock(path: path, fd: candidate) }
            close(candidate)
        }
    }

    private static func open(_ path: String) throws -> Int32 {
        // O_NOFOLLOW: a symbolic link planted at the lock's name must not create a file elsewhere.
        let fd = Foundation.open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else { throw DownloadError.io(operation: "open lock", path: path, errno: errno) }
        return fd
    }

    /// Whether `fd` is still the file at `path` (not removed or replaced while we waited for it).
    private static func isCurrent(_ fd: Int32, path: String) -> Bool {
        var held = stat(), named = stat()
        guard fstat(fd, &held) == 0, stat(path, &named) == 0 else { return false }
        return held.st_dev == named.st_dev && held.st_ino == named.st_ino
    }

    /// The file a lock file guards (`x.pkl` for `x.pkl.lock`, `manifest.json` for `manifest.lock`).
    private static func lockedFile(_ path: String) -> String {
        guard path.hasSuffix(".lock") else { return path }
        let base = String(path.dropLast(".lock".count))
        return (base as NSString).lastPathComponent == "manifest" ? base + ".json" : base
    }

    /// Removes the lock file, then releases the lock; a process waiting on the removed file notices
    /// and takes the lock on a new one.
    func removeAndUnlock() {
        guard fd >= 0 else { return }
        unlink(path)
        unlock()
    }

    /// Releases the lock (the file stays).
    func unlock() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { unlock() }
}
