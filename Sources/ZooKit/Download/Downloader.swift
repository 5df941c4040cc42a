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

/// Moves one URL into one destination file: resumes `<destination>.part` with HTTP Range (only a
/// partial file whose origin is known: its resume record's validator, sent as If-Range, or an md5
/// in the name), retries with exponential backoff, hashes while writing, checks the md5 prefix and
/// the declared size, and renames only a verified file into place. Knows nothing of the index or
/// the cache manifest.
public enum Downloader {
    /// Downloads `url` to `destination` (its folder is created). `md5Prefix`, if given, must start the
    /// file's md5, and `sha256`, if given, must be its sha256; on a mismatch the partial file is
    /// deleted and `destination` is left as it was (a mismatch after resuming is retried once from zero).
    public static func download(url: String, to destination: URL, md5Prefix: String?, sha256: String? = nil, options: FetchOptions,
                                progress: ((_ done: Int64, _ total: Int64?) -> Void)? = nil) throws -> DownloadResult {
        do {
            return try attempts(url: url, to: destination, md5Prefix: md5Prefix, sha256: sha256, options: options, progress: progress)
        } catch {
            // A partial file worth resuming stays; an empty one (404, refused connection) does not.
            let part = destination.path + ".part"
            if (fileSize(URL(fileURLWithPath: part)) ?? 0) == 0 { removePartial(part) }
            throw error
        }
    }

    private static func attempts(url: String, to destination: URL, md5Prefix: String?, sha256: String?, options: FetchOptions,
                                 progress: ((_ done: Int64, _ total: Int64?) -> Void)?) throws -> DownloadResult {
        try makeDirectories(destination.deletingLastPathComponent())
        let part = destination.path + ".part"
        var attempt = 0
        var allowed = options.maxAttempts
        var startOverUsed = false
        var pause = false
        var received: Int64 = 0
        var resumed = false
        var lastReason = ""
        /// One extra attempt from zero, at once, the first time the partial file proves unusable
        /// (another file on the server, or a checksum failure after resuming); false if used up.
        func startOver(_ reason: String) -> Bool {
            removePartial(part)
            lastReason = reason
            guard !startOverUsed else { return false }
            startOverUsed = true
            allowed += 1
            return true
        }
        while attempt < allowed {
            attempt += 1
            if pause {
                try sleepUnlessInterrupted(options.backoff(retry: attempt - 1), url: url, part: part)
            }
            pause = true
            let fd = open(part, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw DownloadError.io(operation: "open", path: part, errno: errno) }
            var offset = lseek(fd, 0, SEEK_END)
            guard offset >= 0 else {
                let code = errno
                close(fd)
                throw DownloadError.io(operation: "seek", path: part, errno: code)
            }
            // Resume only bytes of known origin: a record from this URL, with a validator the server
            // can check (If-Range) or an md5 in the name that checks the result.
            let found = ResumeRecord.read(forPart: part)
            let record = found.flatMap { $0.url == url ? $0 : nil }
            if offset > 0, record?.validator == nil, md5Prefix == nil {
                guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
                    let code = errno
                    close(fd)
                    throw DownloadError.io(operation: "truncate", path: part, errno: code)
                }
                offset = 0
            }
            // A record describes only what is on disk from its own URL (another URL's is stale).
            if offset == 0 || (found != nil && record == nil) { ResumeRecord.remove(forPart: part) }
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
                transfer = try Transfer(url: url, fd: fd, partPath: part, offset: Int64(offset), resume: record, md5: md5, sha256: sha,
                                        options: options, progress: progress)
            } catch {
                close(fd)
                throw error
            }
            let outcome = transfer.run()
            received += transfer.received
            if offset > 0, !transfer.restarted, transfer.received > 0 { resumed = true }
            // The bytes on disk came from more than one response: a checksum failure may be the splice's.
            let spliced = offset > 0 && !transfer.restarted
            switch outcome {
            case .complete:
                if let result = try finish(fd: fd, transfer: transfer, spliced: spliced, url: url, destination: destination,
                                           md5Prefix: md5Prefix, sha256: sha256, attempt: attempt, received: received, resumed: resumed,
                                           startOver: startOver) {
                    return result
                }
                pause = false
            case .interrupted:
                close(fd)
                throw DownloadError.interrupted(url: url, partial: part)
            case let .localError(error):
                close(fd)
                throw error
            case .badContentRange:
                close(fd)
                removePartial(part)
                lastReason = "the server's Content-Range did not start at the requested offset"
            case let .changed(reason):
                close(fd)
                if startOver("\(reason) since the partial download") { pause = false }
            case let .sizeMismatch(onDisk, declared):
                close(fd)
                if onDisk > declared {
                    removePartial(part)
                    lastReason = "the server sent \(onDisk) bytes for a file it declared as \(declared)"
                } else {
                    // The bytes so far are good; the next attempt resumes after them.
                    lastReason = "the server sent \(onDisk) of \(declared) bytes"
                }
            case let .unexpectedStatus(status):
                close(fd)
                throw DownloadError.httpStatus(status, url: url)
            case let .httpError(status):
                if status == 416, offset > 0, transfer.response.contentRange?.total == Int64(offset),
                   holdsWholeFile(record: record, response: transfer.response, checked: md5Prefix != nil || sha256 != nil) {
                    // A complete partial file (left by a stop just before its rename): verify it and use it.
                    if let result = try finish(fd: fd, transfer: transfer, spliced: true, url: url, destination: destination,
                                               md5Prefix: md5Prefix, sha256: sha256, attempt: attempt, received: received, resumed: resumed,
                                               startOver: startOver) {
                        return result
                    }
                    pause = false
                    continue
                }
                close(fd)
                if status == 416 {
                    // The partial file is not a prefix the server can continue: start over.
                    removePartial(part)
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

    /// Checks the whole partial file (`fd`, closed here) and renames it into place; nil when the
    /// check failed after a splice and `startOver` granted one more attempt from zero.
    private static func finish(fd: Int32, transfer: Transfer, spliced: Bool, url: String, destination: URL, md5Prefix: String?,
                               sha256: String?, attempt: Int, received: Int64, resumed: Bool,
                               startOver: (String) -> Bool) throws -> DownloadResult? {
        let part = transfer.partPath
        let syncFailed = fsync(fd) != 0
        let syncErrno = errno
        close(fd)
        if syncFailed { throw DownloadError.io(operation: "fsync", path: part, errno: syncErrno) }
        let digests = FileDigests(md5: transfer.md5.finalizeHex(), sha256: transfer.sha256.finalizeHex(), size: transfer.bytesOnDisk)
        var mismatch: DownloadError?
        if let md5Prefix, !digests.md5.hasPrefix(md5Prefix.lowercased()) {
            mismatch = .checksumMismatch(url: url, expectedPrefix: md5Prefix, actual: digests.md5)
        } else if let sha256, digests.sha256 != sha256.lowercased() {
            mismatch = .pinMismatch(url: url, expected: sha256, actual: digests.sha256)
        }
        if let mismatch {
            removePartial(part)
            if spliced, startOver("a checksum mismatch after resuming") { return nil }
            throw mismatch
        }
        guard rename(part, destination.path) == 0 else {
            throw DownloadError.io(operation: "rename", path: destination.path, errno: errno)
        }
        ResumeRecord.remove(forPart: part)
        return DownloadResult(file: destination, digests: digests, attempts: attempt, bytesReceived: received, resumed: resumed)
    }

    /// Whether a 416 whose `*/size` equals the partial file's size shows the partial file is the
    /// whole file: a checksum will check it (`checked`), or the response carries the validator the
    /// partial file's bytes came with.
    private static func holdsWholeFile(record: ResumeRecord?, response: ResponseHeaders, checked: Bool) -> Bool {
        if let total = record?.total, response.contentRange?.total != total { return false }
        if checked { return true }
        guard let record, record.validator != nil else { return false }
        return record.mismatch(response, total: response.contentRange?.total) == nil
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

/// Creates `folder` and its missing parents (`mkdir -p`); the error names the folder that could not
/// be made and why (its errno).
func makeDirectories(_ folder: URL) throws {
    let path = folder.path
    var info = stat()
    if stat(path, &info) == 0 {
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw DownloadError.io(operation: "mkdir", path: path, errno: ENOTDIR) }
        return
    }
    let parent = folder.deletingLastPathComponent()
    if parent.path != path, !parent.path.isEmpty { try makeDirectories(parent) }
    if mkdir(path, 0o755) != 0, errno != EEXIST {
        throw DownloadError.io(operation: "mkdir", path: path, errno: errno)
    }
}
