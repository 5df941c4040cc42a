import Foundation

/// A file that arrived whole and verified.
public struct DownloadResult: Sendable {
    /// The final file.
    public var file: URL
    /// md5, sha256 and size, computed as the bytes streamed in.
    public var digests: FileDigests
    /// Attempts used (1 if nothing failed).
    public var attempts: Int
    /// Bytes received from the network over all attempts (less than the size after a resume).
    public var bytesReceived: Int64
    /// True if some attempt resumed a partial file with a Range request that the server honoured.
    public var resumed: Bool
}

/// Moves one URL into one destination file: resumes `<destination>.part` with HTTP Range, retries
/// with exponential backoff, hashes while writing, checks the md5 prefix, and renames only a
/// verified file into place. Knows nothing of the index or the cache manifest.
public enum Downloader {
    /// Downloads `url` to `destination` (its folder is created). `md5Prefix`, if given, must start the
    /// file's md5, and `sha256`, if given, must be its sha256; on a mismatch the partial file is
    /// deleted and `destination` is left as it was.
    public static func download(url: String, to destination: URL, md5Prefix: String?, sha256: String? = nil, options: FetchOptions,
                                progress: ((_ done: Int64, _ total: Int64?) -> Void)? = nil) throws -> DownloadResult {
        do {
            return try attempts(url: url, to: destination, md5Prefix: md5Prefix, sha256: sha256, options: options, progress: progress)
        } catch {
            // A partial file worth resuming stays; an empty one (404, refused connection) does not.
            let part = URL(fileURLWithPath: destination.path + ".part")
            if fileSize(part) == 0 { unlink(part.path) }
            throw error
        }
    }

    private static func attempts(url: String, to destination: URL, md5Prefix: String?, sha256: String?, options: FetchOptions,
                                 progress: ((_ done: Int64, _ total: Int64?) -> Void)?) throws -> DownloadResult {
        let folder = destination.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw DownloadError.io(operation: "mkdir", path: folder.path, errno: EACCES)
        }
        let part = destination.path + ".part"
        var attempt = 0
        var received: Int64 = 0
        var resumed = false
        var lastReason = ""
        while attempt < options.maxAttempts {
            attempt += 1
            if attempt > 1 {
                try sleepUnlessInterrupted(options.backoff(retry: attempt - 1), url: url, part: part)
            }
            let fd = open(part, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw DownloadError.io(operation: "open", path: part, errno: errno) }
            let offset = lseek(fd, 0, SEEK_END)
            guard offset >= 0 else {
                let code = errno
                close(fd)
                throw DownloadError.io(operation: "seek", path: part, errno: code)
            }
            // Resuming: the bytes already on disk start the digests (read once; no pass after the end).
            let md5 = try StreamingDigest(.md5), sha = try StreamingDigest(.sha256)
            if offset > 0 {
                do { try feedFile(at: URL(fileURLWithPath: part), into: [md5, sha], limit: Int64(offset)) } catch {
                    close(fd)
                    throw error
                }
            }
            let transfer: Transfer
            do {
                transfer = try Transfer(url: url, fd: fd, partPath: part, offset: Int64(offset), md5: md5, sha256: sha,
                                        options: options, progress: progress)
            } catch {
                close(fd)
                throw error
            }
            let outcome = transfer.run()
            received += transfer.received
            if offset > 0, !transfer.restarted, transfer.received > 0 { resumed = true }
            switch outcome {
            case .complete:
                let syncFailed = fsync(fd) != 0
                let syncErrno = errno
                close(fd)
                if syncFailed { throw DownloadError.io(operation: "fsync", path: part, errno: syncErrno) }
                let digests = FileDigests(md5: transfer.md5.finalizeHex(), sha256: transfer.sha256.finalizeHex(), size: transfer.bytesOnDisk)
                if let md5Prefix, !digests.md5.hasPrefix(md5Prefix.lowercased()) {
                    unlink(part)
                    throw DownloadError.checksumMismatch(url: url, expectedPrefix: md5Prefix, actual: digests.md5)
                }
                if let sha256, digests.sha256 != sha256.lowercased() {
                    unlink(part)
                    throw DownloadError.pinMismatch(url: url, expected: sha256, actual: digests.sha256)
                }
                guard rename(part, destination.path) == 0 else {
                    throw DownloadError.io(operation: "rename", path: destination.path, errno: errno)
                }
                return DownloadResult(file: destination, digests: digests, attempts: attempt, bytesReceived: received, resumed: resumed)
            case .interrupted:
                close(fd)
                throw DownloadError.interrupted(url: url, partial: part)
            case let .localError(error):
                close(fd)
                throw error
            case .badContentRange:
                close(fd)
                unlink(part)
                lastReason = "the server's Content-Range did not start at the requested offset"
            case let .httpError(status):
                close(fd)
                if status == 416 {
                    // The partial file is not a prefix the server can continue: start over.
                    unlink(part)
                    lastReason = "HTTP 416 (range not satisfiable)"
                } else if status == 429 || (500...599).contains(status) {
                    lastReason = "HTTP \(status)"
                } else {
                    throw DownloadError.httpStatus(status, url: url)
                }
            case let .curlError(code, message):
                close(fd)
                if url.hasPrefix("file:") {
                    // CURLE_FILE_COULDNT_READ_FILE (37): nothing to retry on a local mirror.
                    if code == 37 { throw DownloadError.sourceMissing(url: url) }
                    throw DownloadError.transferFailed(url: url, reason: message, attempts: attempt)
                }
                guard retryable(curlCode: code) else {
                    throw DownloadError.transferFailed(url: url, reason: message, attempts: attempt)
                }
                lastReason = message
            }
        }
        throw DownloadError.transferFailed(url: url, reason: lastReason, attempts: attempt)
    }

    /// Connection-level failures worth another attempt (libcurl's CURLcode numbers).
    static func retryable(curlCode code: Int32) -> Bool {
        // 5 resolve proxy, 6 resolve host, 7 connect, 18 partial file, 28 timeout (stall),
        // 35 TLS connect, 52 got nothing, 55 send error, 56 receive error, 92 HTTP/2 stream.
        [5, 6, 7, 18, 28, 35, 52, 55, 56, 92].contains(code)
    }

    private static func sleepUnlessInterrupted(_ seconds: Double, url: String, part: String) throws {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if Interrupts.isInterrupted { throw DownloadError.interrupted(url: url, partial: part) }
            Thread.sleep(forTimeInterval: min(0.05, max(0, end.timeIntervalSinceNow)))
        }
    }
}
