import Foundation

/// What went wrong while fetching, verifying or caching a file; each message is one line that says
/// what failed, where, and what to do.
public enum DownloadError: Error, CustomStringConvertible, Equatable {
    /// The server answered with an HTTP error that retrying will not fix (403, 404, 410, other 4xx).
    case httpStatus(Int, url: String)
    /// The transfer kept failing (connection errors, 5xx, 429) after `attempts` tries.
    case transferFailed(url: String, reason: String, attempts: Int)
    /// A file:// source (a mirror) does not have the file.
    case sourceMissing(url: String)
    /// The finished file's md5 does not start with the prefix in its name.
    case checksumMismatch(url: String, expectedPrefix: String, actual: String)
    /// A file without an md5 in its name no longer matches the sha256 its first download was pinned by.
    case pinMismatch(url: String, expected: String, actual: String)
    /// `--offline` or `ZOO_OFFLINE=1` and the file is not in the cache.
    case offlineMiss(url: String, path: String)
    /// Ctrl-C stopped the transfer; the partial file stays for resuming.
    case interrupted(url: String, partial: String)
    /// Ctrl-C while waiting for another zoo process that holds `file`'s lock; nothing was changed.
    case interruptedWaiting(file: String)
    /// `zoo cache rm`: another zoo process is downloading `file` (it holds its lock); not removed.
    case inUse(file: String)
    /// `zoo cache rm`: `path` is `kind` ("a folder", ...), and only files are removed.
    case notAFile(path: String, kind: String)
    /// `zoo cache rm --all`: the folder holds neither zoo's manifest nor its `winograd/` folder.
    case notACache(path: String)
    /// A file-system call failed.
    case io(operation: String, path: String, errno: Int32)
    /// libcurl refused a setup call.
    case curl(call: String, code: Int32, message: String)
    /// libcrypto refused a digest call.
    case crypto(call: String)
    /// The cache manifest could not be read or written.
    case manifest(path: String, reason: String)
    /// `--mirror` / `ZOO_MIRROR` is not an http(s):// URL with a host or a file:// URL.
    case badMirror(String)

    /// True for Ctrl-C (while transferring or while waiting for a lock): the command exits 130.
    public var isInterruption: Bool {
        switch self {
        case .interrupted, .interruptedWaiting: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case let .httpStatus(status, url):
            let hint = (status == 403 || status == 404 || status == 410)
                ? "; the file is not at this address: try another mirror with --mirror URL (or ZOO_MIRROR)"
                : "; check the URL or try --mirror URL"
            return "download failed: HTTP \(status) for \(url)\(hint)"
        case let .transferFailed(url, reason, attempts):
            return "download failed after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(reason) for \(url); check the network or proxy, run again to resume, or use --mirror URL"
        case let .sourceMissing(url):
            return "download failed: \(url) does not exist; check the mirror's layout (it must mirror https://dl.fbaipublicfiles.com/) or drop --mirror"
        case let .checksumMismatch(url, expected, actual):
            return "checksum mismatch for \(url): md5 \(actual) does not start with \(expected) (from the file name); the download was deleted, run zoo fetch again or use --mirror URL"
        case let .pinMismatch(url, expected, actual):
            return "checksum mismatch for \(url): sha256 \(actual) differs from \(expected) pinned by its first download; the new download was deleted; if it is right, run zoo cache rm for this model first"
        case let .offlineMiss(url, path):
            return "offline: \(path) is not in the cache (from \(url)); run zoo fetch without --offline / ZOO_OFFLINE to download it"
        case let .interrupted(url, partial):
            return "interrupted: \(url) stopped; \(partial) is kept and the next zoo fetch resumes it"
        case let .interruptedWaiting(file):
            return "interrupted while waiting for another zoo process to finish \(file); nothing was changed, run zoo fetch again"
        case let .inUse(file):
            return "\(file) is being downloaded by another zoo process; nothing was removed, run zoo cache rm again when it finishes"
        case let .notAFile(path, kind):
            return "\(path) is \(kind), not a cached file; nothing was removed; name model ids, configs or files' URLs (or use --all)"
        case let .notACache(path):
            return "\(path) does not look like a zoo cache (no manifest.json, detectron2/ or winograd/ in it), so it was not emptied; check ZOO_CACHE"
        case let .io(operation, path, code):
            return "\(operation) failed for \(path): \(String(cString: strerror(code))) (errno \(code)); check the cache directory's permissions and free space"
        case let .curl(call, code, message):
            return "libcurl \(call) failed: \(message) (CURLcode \(code)); check the libcurl installation"
        case let .crypto(call):
            return "libcrypto \(call) failed; check the OpenSSL installation"
        case let .manifest(path, reason):
            return "cache manifest \(path): \(reason); run zoo cache verify --fix to rebuild it"
        case let .badMirror(mirror):
            return "mirror '\(displayText(mirror))' is not an http:// or https:// URL with a host, or a file:// URL; set --mirror or ZOO_MIRROR to one (e.g. file:///data/zoo-mirror/)"
        }
    }
}
