internal import CZooCurl
import Foundation

/// What one libcurl attempt ended with.
enum TransferOutcome {
    /// The body arrived whole (status 200/206, or 0 for file://).
    case complete
    /// An HTTP error status (curl's FAILONERROR stopped before any body was written).
    case httpError(Int)
    /// Ctrl-C: the progress callback stopped curl.
    case interrupted
    /// A write or seek on the partial file failed.
    case localError(DownloadError)
    /// The server answered a Range request with a Content-Range that does not start where asked.
    case badContentRange
    /// libcurl failed (connection refused or dropped, stalled, TLS...).
    case curlError(code: Int32, message: String)
}

/// One attempt at moving a URL's bytes into an open partial file, appending from `offset` with an
/// HTTP Range request, hashing every byte as it is written.
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
    private var statusChecked = false
    private var contentRangeStart: Int64?
    private var failure: TransferOutcome?
    private let easy: CurlEasy
    private let progress: ((Int64, Int64?) -> Void)?

    init(url: String, fd: Int32, partPath: String, offset: Int64, md5: StreamingDigest, sha256: StreamingDigest,
         options: FetchOptions, progress: ((_ done: Int64, _ total: Int64?) -> Void)?) throws {
        self.url = url
        self.fd = fd
        self.partPath = partPath
        self.offset = offset
        self.md5 = md5
        self.sha256 = sha256
        self.progress = progress
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

    /// Runs the attempt to its end.
    func run() -> TransferOutcome {
        shaWorker = HashWorker(digest: sha256)
        let (code, message) = withExtendedLifetime(self) { easy.perform() }
        if let worker = shaWorker { sha256 = worker.finish() }
        shaWorker = nil
        if let failure { return failure }
        if code == CURLE_OK { return .complete }
        if code == CURLE_ABORTED_BY_CALLBACK, Interrupts.isInterrupted { return .interrupted }
        if code == CURLE_HTTP_RETURNED_ERROR { return .httpError(easy.responseCode) }
        return .curlError(code: Int32(code.rawValue), message: message)
    }

    /// Bytes in the partial file now.
    var bytesOnDisk: Int64 { offset }

    fileprivate func header(_ line: String) {
        let lower = line.lowercased()
        if lower.hasPrefix("http/") {
            // A new response (after a redirect or a 100): forget the previous one's headers.
            contentRangeStart = nil
        } else if lower.hasPrefix("content-range:") {
            // "Content-Range: bytes 100-199/200"
            let value = lower.dropFirst("content-range:".count).trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("bytes "), let dash = value.firstIndex(of: "-") {
                contentRangeStart = Int64(value[value.index(value.startIndex, offsetBy: 6)..<dash])
            }
        }
    }

    /// The first body bytes: decide between appending (206) and starting over (200 to a Range request).
    private func checkStatus() -> Bool {
        statusChecked = true
        guard offset > 0 else { return true }
        let status = easy.responseCode
        if status == 206 {
            if contentRangeStart != offset {
                failure = .badContentRange
                return false
            }
            return true
        }
        if status == 200 {
            // The server ignored Range and sends the whole body: truncate, rehash from zero.
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
        // status 0: file:// honours the range itself.
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
