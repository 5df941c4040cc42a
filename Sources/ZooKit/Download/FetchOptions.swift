import Foundation

/// How `fetchWeights` fetches: where the cache is, which mirror, whether the network may be used,
/// retry and timeout policy, and where progress and notes go.
public struct FetchOptions: Sendable {
    /// The prefix of every detectron2 zoo URL; a mirror replaces it.
    public static let canonicalBase = "https://dl.fbaipublicfiles.com/"

    /// The cache files go into.
    public var cache: ModelCache
    /// Replaces `https://dl.fbaipublicfiles.com/` in every URL (http://, https:// or file://).
    public var mirror: String?
    /// Use only the cache; a missing file is an error.
    public var offline: Bool
    /// Download again even if a verified file is cached.
    public var force: Bool
    /// Attempts per file on 5xx, 429 and connection errors.
    public var maxAttempts: Int
    /// First retry delay in seconds; each further retry doubles it (capped at 30 s).
    public var retryDelay: Double
    /// A transfer that receives no bytes for this many seconds fails (and is retried).
    public var stallTimeout: Int
    /// Seconds allowed for connecting.
    public var connectTimeout: Int
    /// Per-file progress lines (nil: none).
    public var progress: ProgressBoard?
    /// One-line notes for the user (e.g. "pinned by sha256"); nil: silent.
    public var note: (@Sendable (String) -> Void)?

    /// Options from the environment: `ZOO_CACHE`/`XDG_CACHE_HOME`/`HOME` (cache), `ZOO_MIRROR`,
    /// `ZOO_OFFLINE=1`, and for tests and slow links `ZOO_RETRY_DELAY` (seconds),
    /// `ZOO_STALL_TIMEOUT` (seconds), `ZOO_MAX_ATTEMPTS`.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        cache = ModelCache(environment: environment)
        mirror = environment["ZOO_MIRROR"].flatMap { $0.isEmpty ? nil : $0 }
        offline = ["1", "true", "yes"].contains(environment["ZOO_OFFLINE"]?.lowercased() ?? "")
        force = false
        maxAttempts = environment["ZOO_MAX_ATTEMPTS"].flatMap { Int($0) }.map { max(1, $0) } ?? 5
        retryDelay = environment["ZOO_RETRY_DELAY"].flatMap { Double($0) }.map { max(0, $0) } ?? 1.0
        stallTimeout = environment["ZOO_STALL_TIMEOUT"].flatMap { Int($0) }.map { max(1, $0) } ?? 30
        connectTimeout = 30
        progress = nil
        note = nil
    }

    /// The URL to download `url` from: the mirror's if one is set and `url` is under the canonical base.
    public func sourceURL(for url: String) -> String {
        guard let mirror, url.hasPrefix(Self.canonicalBase) else { return url }
        let base = mirror.hasSuffix("/") ? mirror : mirror + "/"
        return base + url.dropFirst(Self.canonicalBase.count)
    }

    /// Whether `mirror` is an `http://` or `https://` URL with a host, or a `file://` URL: what
    /// the downloader can read (anything else would only fail, and be retried, at the transfer).
    public static func isUsableMirror(_ mirror: String) -> Bool {
        guard let parts = URLComponents(string: mirror), let scheme = parts.scheme?.lowercased() else { return false }
        switch scheme {
        case "http", "https": return !(parts.host ?? "").isEmpty
        case "file": return true
        default: return false
        }
    }

    /// Delay before retry number `retry` (1-based).
    func backoff(retry: Int) -> Double {
        min(30, retryDelay * pow(2, Double(retry - 1)))
    }
}
