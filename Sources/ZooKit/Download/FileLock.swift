import Foundation

/// An exclusive advisory lock (flock) on a lock file, held until `unlock` or deinit, so two zoo
/// processes (or two threads) fetching the same file take turns instead of writing one partial file.
final class FileLock {
    let path: String
    private var fd: Int32

    /// Waits until the lock on `path` (created if absent) is ours; Ctrl-C while waiting throws
    /// `DownloadError.interrupted` (polling, because the SIGINT handler keeps flock from returning EINTR).
    init(path: String) throws {
        self.path = path
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw DownloadError.io(operation: "open lock", path: path, errno: errno) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            guard code == EWOULDBLOCK || code == EINTR else {
                close(fd)
                throw DownloadError.io(operation: "flock", path: path, errno: code)
            }
            if Interrupts.isInterrupted {
                close(fd)
                throw DownloadError.interrupted(url: "waiting for another zoo fetch", partial: path)
            }
            usleep(50_000)
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
