import Foundation

/// An exclusive advisory lock (flock) on a lock file, held until `unlock` or deinit, so two zoo
/// processes (or two threads) fetching the same file take turns instead of writing one partial file.
final class FileLock {
    let path: String
    private var fd: Int32

    /// Blocks until the lock on `path` (created if absent) is ours.
    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DownloadError.io(operation: "open lock", path: path, errno: errno) }
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            let code = errno
            close(fd)
            throw DownloadError.io(operation: "flock", path: path, errno: code)
        }
    }

    /// Releases the lock (the file stays: deleting it would race with a waiter).
    func unlock() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    deinit { unlock() }
}
