internal import CZooCurl
import Foundation

/// What one libcurl attempt ended with.
enum TransferOutcome {
    /// The body arrived whole: status 200 (or 206 continuing at the offset; 0 only for file://),
    /// and as many bytes on disk as the server declared.
    case complete
    /// An HTTP error status (curl's FAILONERROR stopped before any body was written).
    case httpError(Int)
    /// A status that does not carry the file's bytes (204, 304, 203, 3xx without Location, 0 from a
    /// non-file URL, ...); nothing was written.
    case unexpectedStatus(Int)
    /// Ctrl-C: the progress callback stopped curl.
    case interrupted
    /// A write or seek on the partial file failed.
    case localError(DownloadError)
    /// The server answered a Range request with a Content-Range that does not start where asked.
    case badContentRange
    /// The server's file is not the one the partial file came from (another validator or total).
    case changed(reason: String)
    /// The body ended with `onDisk` bytes in the file where the server declared `declared`.
    case sizeMismatch(onDisk: Int64, declared: Int64)
    /// libcurl failed (connection refused or dropped, stalled, TLS...).
    case curlError(code: Int32, message: String)
}

/// One attempt at moving a URL's bytes into an open partial file, appending from `offset` with an
/// HTTP Range request (and If-Range, when the partial file's resume record holds a validator),
/// hashing every byte as it is written.
final class Transfer {
    let url: String
    let fd: Int32
    let partPath: String
    /// Bytes already in the partial file (and already fed to the digests) when this attempt started.
    private(set) var offset: Int64
    private(set) var md5: StreamingDigest
    /// The sha256 as of the end of `run()` (fed on a `HashWorker` thread while the transfer runs).
    private(set) var sha256: StreamingDigest
    private var shaWorker: HashWorker?
    /// Bytes this attempt received from the network (for tests and the benchmark).
    private(set) var received: Int64 = 0
    /// True if the server ignored the Range request and the file was started over.
    private(set) var restarted = false
    /// The resume record of the partial file's bytes (nil when there are none, or none is known).
    private let stored: ResumeRecord?
    private let isFileURL: Bool
    private var statusChecked = false
    /// The current response's headers (reset at each status line: redirects, 100 Continue).
    private(set) var response = ResponseHeaders()
    /// The size the accepted response declared the whole file to be.
    private var declaredTotal: Int64?
    private var failure: TransferOutcome?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let easy: CurlEasy
    private let progress: ((Int64, Int64?) -> Void)?

    /// `resume` describes the partial file's first `offset` bytes (if known); its validator goes out
    /// as If-Range, and a response that does not match it fails the attempt with `.changed`.
    init(url: String, fd: Int32, partPath: String, offset: Int64, resume: ResumeRecord?, md5: StreamingDigest, sha256: StreamingDigest,
         options: FetchOptions, progress: ((_ done: Int64, _ total: Int64?) -> Void)?) throws {
        self.url = url
        self.fd = fd
        self.partPath = partPath
        self.offset = offset
        self.md5 = md5
        self.sha256 = sha256
        self.progress = progress
        stored = offset > 0 ? resume : nil
        isFileURL = url.lowercased().hasPrefix("file:")
        easy = try CurlEasy()
        try easy.set(CURLOPT_URL, url)
        try easy.set(CURLOPT_FOLLOWLOCATION, 1)
        try easy.set(CURLOPT_MAXREDIRS, 10)
        // Error statuses end the transfer before their body reaches the partial file.
        try easy.set(CURLOPT_FAILONERROR, 1)
        try easy.set(CURLOPT_NOSIGNAL, 1)
        try easy.set(CURLOPT_CONNECTTIMEOUT, options.connectTimeout)
        // A stalled connection (under 1 byte/s for stallTimeout seconds) fails; a slow one does not.
        try easy.set(CURLOPT_LOW_SPEED_LIMIT, 1)
        try easy.set(CURLOPT_LOW_SPEED_TIME, options.stallTimeout)
        try easy.set(CURLOPT_BUFFERSIZE, 512 * 1024)
        try easy.set(CURLOPT_USERAGENT, "zoo (libcurl)")
        // Leave the body as sent: the md5 is over the file's bytes, not a decoded stream.
        try easy.set(CURLOPT_HTTP_CONTENT_DECODING, 0)
        if offset > 0 {
            // CURLOPT_RANGE rather than RESUME_FROM: a 200 answer reaches us and we start over.
            try easy.set(CURLOPT_RANGE, "\(offset)-")
            if let validator = stored?.validator, !isFileURL {
                // A server whose file changed answers 200 with the new file instead of 206.
                guard let list = curl_slist_append(nil, "If-Range: \(validator)") else {
                    throw DownloadError.curl(call: "curl_slist_append", code: -1, message: "out of memory")
                }
                headerList = list
                try easy.set(CURLOPT_HTTPHEADER, pointer: UnsafeMutableRawPointer(list))
            }
        }
        let me = Unmanaged.passUnretained(self).toOpaque()
        try easy.set(CURLOPT_WRITEDATA, pointer: me)
        try easy.set(CURLOPT_HEADERDATA, pointer: me)
        try easy.set(CURLOPT_XFERINFODATA, pointer: me)
        try easy.setWriteFunction(transferWrite)
        try easy.setHeaderFunction(transferHeader)
        try easy.setProgressFunction(transferProgress)
        try easy.set(CURLOPT_NOPROGRESS, 0)
    }

    deinit {
        guard let headerList else { return }
        // The handle outlives this body (stored properties go after it): let it forget the list first.
        _ = try? easy.set(CURLOPT_HTTPHEADER, pointer: nil)
        curl_slist_free_all(headerList)
    }

    /// Runs the attempt to its end.
    func run() -> TransferOutcome {
        shaWorker = HashWorker(digest: sha256)
        let (code, message) = withExtendedLifetime(self) { easy.perform() }
        if let worker = shaWorker { sha256 = worker.finish() }
        shaWorker = nil
        if let failure { return failure }
        if code == CURLE_OK {
            // A response without a body (204, 304, an empty file) never reached `write`.
            if !statusChecked, !checkStatus() { return failure ?? .unexpectedStatus(easy.responseCode) }
            if let declaredTotal, declaredTotal != offset { return .sizeMismatch(onDisk: offset, declared: declaredTotal) }
            return .complete
        }
        if code == CURLE_ABORTED_BY_CALLBACK, Interrupts.isInterrupted { return .interrupted }
        if code == CURLE_HTTP_RETURNED_ERROR { return .httpError(easy.responseCode) }
        return .curlError(code: Int32(code.rawValue), message: message)
    }

    /// Bytes in the partial file now.
    var bytesOnDisk: Int64 { offset }

    fileprivate func header(_ line: String) {
        if line.lowercased().hasPrefix("http/") {
            // A new response (after a redirect or a 100): forget the previous one's headers.
            response = ResponseHeaders()
        } else {
            response.add(line)
        }
    }

    /// The first body bytes (or the end of a response without any): accept 200 (starting over if
    /// the partial file was not empty), 206 continuing at the offset from the same file, or 0 for
    /// file://; anything else fails the attempt before a byte is written.
    private func checkStatus() -> Bool {
        statusChecked = true
        let status = easy.responseCode
        switch status {
        case 0 where isFileURL:
            // file:// honours the range itself and declares nothing.
            return true
        case 200:
            if offset > 0 {
                // The server ignored Range (or If-Range found another file): truncate, rehash from zero.
                guard ftruncate(fd, 0) == 0, lseek(fd, 0, SEEK_SET) == 0 else {
                    failure = .localError(.io(operation: "truncate", path: partPath, errno: errno))
                    return false
                }
                do {
                    md5 = try StreamingDigest(.md5)
                    sha256 = try StreamingDigest(.sha256)
                    _ = shaWorker?.finish()
                    shaWorker = HashWorker(digest: sha256)
                } catch {
                    failure = .localError(error as? DownloadError ?? .crypto(call: "EVP_MD_CTX_new"))
                    return false
                }
                offset = 0
                restarted = true
            }
            declaredTotal = response.contentLength
        case 206:
            guard let range = response.contentRange, range.start == offset else {
                failure = .badContentRange
                return false
            }
            guard range.total != nil else {
                // Without the total nothing shows where the file ends: a body cut short would pass.
                failure = .changed(reason: "the server's 206 did not give the file's size")
                return false
            }
            if let reason = stored?.mismatch(response, total: range.total) {
                failure = .changed(reason: reason)
                return false
            }
            declaredTotal = range.total
        default:
            failure = .unexpectedStatus(status)
            return false
        }
        // The partial file's new bytes are described on disk before the first of them is written.
        let record = ResumeRecord(url: url, etag: response.strongETag, lastModified: response.strongLastModified, total: declaredTotal)
        if record != stored || offset == 0 {
            do {
                if record.validator == nil, record.total == nil {
                    ResumeRecord.remove(forPart: partPath)
                } else {
                    try record.write(forPart: partPath)
                }
            } catch {
                failure = .localError(error as? DownloadError ?? .io(operation: "write", path: ResumeRecord.path(forPart: partPath), errno: EIO))
                return false
            }
        }
        return true
    }

    fileprivate func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        if !statusChecked, !checkStatus() { return false }
        guard let base = bytes.baseAddress else { return true }
        var written = 0
        while written < bytes.count {
            let n = Foundation.write(fd, base + written, bytes.count - written)
            if n < 0 {
                if errno == EINTR { continue }
                failure = .localError(.io(operation: "write", path: partPath, errno: errno))
                return false
            }
            written += n
        }
        shaWorker?.submit(bytes)
        md5.update(bytes)
        offset += Int64(bytes.count)
        received += Int64(bytes.count)
        return true
    }

    fileprivate func progressTick(total: Int64) -> Bool {
        if Interrupts.isInterrupted { return false }
        progress?(offset, total > 0 ? (restarted ? total : total + (offset - received)) : nil)
        return true
    }
}

private func transferWrite(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?) -> Int {
    guard let userdata else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
    return transfer.write(bytes) ? size * count : 0
}

private func transferHeader(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ userdata: UnsafeMutableRawPointer?) -> Int {
    guard let userdata, let data else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    let bytes = UnsafeRawBufferPointer(start: data, count: size * count)
    transfer.header(String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    return size * count
}

private func transferProgress(_ userdata: UnsafeMutableRawPointer?, _ dltotal: curl_off_t, _ dlnow: curl_off_t, _ ultotal: curl_off_t, _ ulnow: curl_off_t) -> Int32 {
    guard let userdata else { return 0 }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    return transfer.progressTick(total: Int64(dltotal)) ? 0 : 1
}
