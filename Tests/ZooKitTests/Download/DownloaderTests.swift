import Foundation
import Testing
@testable import ZooKit

/// The downloader against the loopback server with faults: resume, Range ignored, retries,
/// corruption, 404, stalls, offline, concurrency, mirrors and detectron2's cache.
@Suite("Downloader")
final class DownloaderTests {
    let server: FaultServer
    let cacheRoot: URL
    let data = TestCheckpoint.data

    init() throws {
        server = try #require(FaultServer.shared, "python3 fault server did not start")
        try #require(!TestCheckpoint.data.isEmpty, "md5 tail search failed")
        try server.serve(TestCheckpoint.data, as: TestCheckpoint.name)
        cacheRoot = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-cache-\(UUID().uuidString)")
    }

    /// Each test has its own instance, so this removes the test's cache when the test ends.
    deinit { try? FileManager.default.removeItem(at: cacheRoot) }

    /// Options for a fresh cache, fetching through `mode` on the fault server, fast retries.
    func options(_ mode: String, detectron2Roots: [URL] = []) -> FetchOptions {
        var options = FetchOptions(environment: ["HOME": cacheRoot.path])
        options.cache = ModelCache(root: cacheRoot, detectron2Roots: detectron2Roots)
        options.mirror = server.base(mode)
        options.retryDelay = 0.01
        options.stallTimeout = 1
        options.maxAttempts = 4
        return options
    }

    /// A canonical zoo URL unique to one test (the server's counters and log are per path).
    func zooURL(_ tag: String, name: String = TestCheckpoint.name) -> String {
        "https://dl.fbaipublicfiles.com/detectron2/\(tag)-\(UUID().uuidString)/\(name)"
    }

    func pathFragment(_ url: String) -> String {
        String(url.dropFirst(FetchOptions.canonicalBase.count))
    }

    @Test("a plain fetch lands at the URL's path, matches, and is recorded with size and sha256")
    func plainFetch() throws {
        let url = zooURL("plain")
        let opts = options("ok")
        let file = try fetchWeights(url: url, md5Prefix: TestCheckpoint.prefix, options: opts)
        #expect(file == cacheRoot.appendingPathComponent(pathFragment(url)))
        #expect(try Data(contentsOf: file) == data)
        let record = try #require(opts.cache.record(forURL: url))
        #expect(record.size == Int64(data.count))
        #expect(record.sha256 == (try sha256Hex(of: file)))
        #expect(!record.pinned)
        #expect(opts.cache.cachedFile(forURL: url) == file)
        // A second fetch is served by the cache.
        _ = try fetchWeights(url: url, md5Prefix: TestCheckpoint.prefix, options: opts)
        #expect(try server.requests(containing: pathFragment(url)).count == 1)
    }

    @Test("a dropped connection is resumed with a Range request, not downloaded again")
    func resumeAfterDrop() throws {
        let url = zooURL("drop")
        let file = try fetchWeights(url: url, md5Prefix: TestCheckpoint.prefix, options: options("drop"))
        #expect(try Data(contentsOf: file) == data)
        let requests = try server.requests(containing: pathFragment(url))
        #expect(requests.count >= 2)
        #expect(requests.contains { ($0.range ?? "").hasPrefix("bytes=") && $0.status == 206 })
        #expect(Double(requests.map(\.sent).reduce(0, +)) < 1.5 * Double(data.count))
        #expect(!FileManager.default.fileExists(atPath: file.path + ".part"))
    }

    @Test("a server that answers a Range request with 200 is handled by starting over")
    func serverIgnoringRange() throws {
        let url = zooURL("norange")
        let opts = options("norange")
        let destination = opts.cache.path(forURL: url)
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.prefix(1_000_000).write(to: URL(fileURLWithPath: destination.path + ".part"))
        let file = try fetchWeights(url: url, md5Prefix: TestCheckpoint.prefix, options: opts)
        #expect(try Data(contentsOf: file) == data)
        let requests = try server.requests(containing: pathFragment(url))
        #expect(requests.count == 1)
        #expect(requests.first?.range == "bytes=1000000-")
        #expect(requests.first?.status == 200)
    }

    @Test("redirects are followed")
    func redirect() throws {
        let url = zooURL("redirect")
        let file = try fetchWeights(url: url, md5Prefix: TestCheckpoint.prefix, options: options("redirect"))
        #expect(try Data(contentsOf: file) == data)
        #expect(try server.requests(containing: pathFragment(url)).map(\.status) == [302, 200])
    }

    @Test("503 twice, then success, after retries")
    func retriesOn503() throws {
        let url = zooURL("flaky")
        let file = try fetchWeights(url: url, md5Prefix: TestCheckpoint.prefix, options: options("flaky503"))
        #expect(try Data(contentsOf: file) == data)
        #expect(try server.requests(containing: pathFragment(url)).map(\.status) == [503, 503, 200])
    }

    @Test("429 is retried too")
    func retriesOn429() throws {
        let url = zooURL("busy")
        _ = try fetchWeights(url: url, md5Prefix: TestCheckpoint.prefix, options: options("busy429"))
        #expect(try server.requests(containing: pathFragment(url)).map(\.status) == [429, 200])
    }

    @Test("retries are bounded")
    func boundedRetries() throws {
        let url = zooURL("flaky-bounded")
        var opts = options("flaky503")
        opts.maxAttempts = 2
        #expect(throws: DownloadError.transferFailed(url: opts.sourceURL(for: url), reason: "HTTP 503", attempts: 2)) {
            try fetchWeights(url: url, md5Prefix: TestCheckpoint.prefix, options: opts)
        }
    }

    @Test("corrupt bytes: an error naming expected and actual md5, and nothing under the final name")
    func corruptDownload() throws {
        let url = zooURL("corrupt")
        let opts = options("corrupt")
        var thrown: DownloadError?
        do { _ = try fetchWeights(url: url, md5Prefix: TestCheckpoint.prefix, options: opts) } catch let error as DownloadError { thrown = error }
        guard case let .checksumMismatch(_, expected, actual)? = thrown else {
            Issue.record("expected a checksum mismatch, got \(String(describing: thrown))")
            return
        }
        #expect(expected == TestCheckpoint.prefix)
        #expect(!actual.hasPrefix(TestCheckpoint.prefix))
        #expect(thrown?.description.contains(actual) == true)
        let destination = opts.cache.path(forURL: url)
        #expect(!FileManager.default.fileExists(atPath: destination.path))
        #expect(!FileManager.default.fileExists(atPath: destination.path + ".part"))
        #expect(opts.cache.cachedFile(forURL: url) == nil)
    }

    @Test("404 fails at once, naming the URL and suggesting --mirror")
    func notFound() throws {
        let url = zooURL("gone")
        let opts = options("missing")
        #expect(throws: DownloadError.httpStatus(404, url: opts.sourceURL(for: url))) {
            try fetchWeights(url: url, md5Prefix: TestCheckpoint.prefix, options: opts)
        }
        #expect(DownloadError.httpStatus(404, url: "u").description.contains("--mirror"))
        #expect(!FileManager.default.fileExists(atPath: opts.cache.path(forURL: url).path + ".part"))
        #expect(try server.requests(containing: pathFragment(url)).count == 1)
        let forbidden = zooURL("forbidden")
        #expect(throws: DownloadError.httpStatus(403, url: options("forbidden").sourceURL(for: forbidden))) {
            try fetchWeights(url: forbidden, md5Prefix: TestCheckpoint.prefix, options: options("forbidden"))
        }
    }

    @Test("a stalled connection times out and the retry resumes")
    func stall() throws {
        let url = zooURL("stall")
        let file = try fetchWeights(url: url, md5Prefix: TestCheckpoint.prefix, options: options("stall"))
        #expect(try Data(contentsOf: file) == data)
        let requests = try server.requests(containing: pathFragment(url))
        #expect(requests.contains { $0.status == 206 && $0.range != nil })
    }

    @Test("offline: a miss names the missing file and touches no network; a hit returns the cached file")
    func offline() throws {
        let url = zooURL("offline")
        var opts = options("ok")
        opts.offline = true
        let expected = opts.cache.path(forURL: url).path
        #expect(throws: DownloadError.offlineMiss(url: url, path: expected)) {
            try fetchWeights(url: url, md5Prefix: TestCheckpoint.prefix, options: opts)
        }
        #expect(try server.requests(containing: pathFragment(url)).isEmpty)
        opts.offline = false
        let file = try fetchWeights(url: url, md5Prefix: TestCheckpoint.prefix, options: opts)
        opts.offline = true
        #expect(try fetchWeights(url: url, md5Prefix: TestCheckpoint.prefix, options: opts) == file)
        #expect(try server.requests(containing: pathFragment(url)).count == 1)
    }

    @Test("two fetches of one file at once: one downloads, the other waits and reuses it")
    func concurrentFetches() throws {
        let url = zooURL("twice")
        let opts = options("slow")
        let results = fetchAll([FetchRequest(url: url, md5Prefix: TestCheckpoint.prefix),
                                FetchRequest(url: url, md5Prefix: TestCheckpoint.prefix)], options: opts, maxParallel: 2)
        let files = try results.map { try $0.get() }
        #expect(files[0] == files[1])
        #expect(try Data(contentsOf: files[0]) == data)
        #expect(try server.requests(containing: pathFragment(url)).count == 1)
    }

    @Test("a verified file in detectron2's cache is reused instead of downloaded")
    func detectron2CacheReuse() throws {
        let url = zooURL("iopath")
        let iopath = cacheRoot.deletingLastPathComponent().appendingPathComponent("iopath-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: iopath) }
        let theirs = iopath.appendingPathComponent(pathFragment(url))
        try FileManager.default.createDirectory(at: theirs.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: theirs)
        let file = try fetchWeights(url: url, md5Prefix: TestCheckpoint.prefix, options: options("missing", detectron2Roots: [iopath]))
        #expect(try Data(contentsOf: file) == data)
        #expect(try server.requests(containing: pathFragment(url)).isEmpty)
        // A corrupt copy there is not taken.
        let url2 = zooURL("iopath-bad")
        let theirs2 = iopath.appendingPathComponent(pathFragment(url2))
        try FileManager.default.createDirectory(at: theirs2.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.prefix(1000).write(to: theirs2)
        #expect(throws: DownloadError.self) {
            try fetchWeights(url: url2, md5Prefix: TestCheckpoint.prefix, options: options("missing", detectron2Roots: [iopath]))
        }
    }

    @Test("a file with no md5 in its name is pinned by its first sha256; a different later download is refused")
    func pinnedBySHA256() throws {
        let name = "R-50-\(UUID().uuidString).pkl"
        try server.serve(Data("first version".utf8), as: name)
        let url = zooURL("pin", name: name)
        var opts = options("ok")
        let notes = NoteSink()
        opts.note = { notes.append($0) }
        let file = try fetchWeights(url: url, md5Prefix: nil, options: opts)
        let record = try #require(opts.cache.record(forURL: url))
        #expect(record.pinned)
        #expect(record.sha256 == (try sha256Hex(of: file)))
        #expect(notes.lines.contains { $0.contains("pinned") && $0.contains(record.sha256) })
        try Data("second version".utf8).write(to: server.root.appendingPathComponent(name))
        opts.force = true
        var thrown: DownloadError?
        do { _ = try fetchWeights(url: url, md5Prefix: nil, options: opts) } catch let error as DownloadError { thrown = error }
        guard case let .pinMismatch(_, expected, _)? = thrown else {
            Issue.record("expected a pin mismatch, got \(String(describing: thrown))")
            return
        }
        #expect(expected == record.sha256)
        // The pinned file stays; the refused download leaves nothing behind.
        #expect(try Data(contentsOf: file) == Data("first version".utf8))
        #expect(!FileManager.default.fileExists(atPath: file.path + ".part"))
    }

    @Test("a file:// mirror works, and a missing file there is a clear error")
    func fileMirror() throws {
        let url = zooURL("filemirror")
        let mirror = cacheRoot.deletingLastPathComponent().appendingPathComponent("mirror-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: mirror) }
        let there = mirror.appendingPathComponent(pathFragment(url))
        try FileManager.default.createDirectory(at: there.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: there)
        var opts = options("ok")
        opts.mirror = mirror.absoluteString
        let file = try fetchWeights(url: url, md5Prefix: TestCheckpoint.prefix, options: opts)
        #expect(try Data(contentsOf: file) == data)
        let absent = zooURL("filemirror-absent")
        #expect(throws: DownloadError.sourceMissing(url: opts.sourceURL(for: absent))) {
            try fetchWeights(url: absent, md5Prefix: TestCheckpoint.prefix, options: opts)
        }
    }

    @Test("a file:// source resumes a partial file")
    func fileResume() throws {
        let source = cacheRoot.deletingLastPathComponent().appendingPathComponent("src-\(UUID().uuidString)-\(TestCheckpoint.name)")
        defer { try? FileManager.default.removeItem(at: source) }
        try data.write(to: source)
        let destination = cacheRoot.appendingPathComponent("direct/\(TestCheckpoint.name)")
        try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.prefix(2_000_000).write(to: URL(fileURLWithPath: destination.path + ".part"))
        let result = try Downloader.download(url: source.absoluteString, to: destination, md5Prefix: TestCheckpoint.prefix, options: options("ok"))
        #expect(result.bytesReceived == Int64(data.count - 2_000_000))
        #expect(try Data(contentsOf: destination) == data)
    }
}

/// Collects notes from several threads.
final class NoteSink: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    func append(_ line: String) { lock.lock(); stored.append(line); lock.unlock() }
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return stored }
}
