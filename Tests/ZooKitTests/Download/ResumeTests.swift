import Foundation
import Testing
@testable import ZooKit

/// Resuming only the same file, and taking only whole bodies: If-Range with the stored validator,
/// a changed file started over, no resume of bytes of unknown origin, the declared size enforced,
/// statuses without the file refused, a complete partial file answered with 416 used.
@Suite("Resume and completeness")
final class ResumeTests {
    let scripted: ScriptedServer
    let work: URL

    init() throws {
        scripted = try #require(ScriptedServer.shared, "loopback server did not start")
        work = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-resume-\(UUID().uuidString)")
    }

    /// Each test has its own instance, so this removes the test's folder when the test ends.
    deinit { try? FileManager.default.removeItem(at: work) }

    func options() -> FetchOptions {
        var options = FetchOptions(environment: ["HOME": work.path])
        options.cache = ModelCache(root: work.appendingPathComponent("cache"))
        options.retryDelay = 0.01
        options.stallTimeout = 5
        options.maxAttempts = 4
        return options
    }

    /// A server path unique to one test.
    func unique(_ name: String) -> String { "/\(UUID().uuidString)/\(name)" }

    func destination(_ path: String) -> URL { work.appendingPathComponent("out" + path) }

    static func random(_ count: Int) -> Data {
        var rng = SystemRandomNumberGenerator()
        return Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }

    /// Downloads `path` from the scripted server with no md5 prefix (the files that lacked any check).
    func download(_ path: String, md5Prefix: String? = nil) throws -> DownloadResult {
        try Downloader.download(url: scripted.url(path), to: destination(path), md5Prefix: md5Prefix, options: options())
    }

    // MARK: Finding 1: resume only the same file

    @Test("a resumed download sends the ETag it started with as If-Range, and the record goes with the .part")
    func ifRangeWithETag() throws {
        let path = unique("R-50.pkl"), data = Self.random(200_000)
        scripted.route(path) { request, count in
            count == 1 ? ScriptedServer.Response(status: 200, headers: [("ETag", "\"v1\"")], body: data, cutAfter: 80_000)
                : ScriptedServer.file(data, etag: "\"v1\"", request: request)
        }
        let result = try download(path)
        #expect(try Data(contentsOf: result.file) == data)
        #expect(result.resumed)
        let requests = scripted.requests(path)
        #expect(requests.count == 2)
        #expect(requests.last?.range == "bytes=80000-")
        #expect(requests.last?.ifRange == "\"v1\"")
        #expect(!FileManager.default.fileExists(atPath: result.file.path + ".part"))
        #expect(!FileManager.default.fileExists(atPath: result.file.path + ".part.resume"))
    }

    @Test("without an ETag, a Last-Modified a second or more before the response's Date is the If-Range validator")
    func ifRangeWithLastModified() throws {
        let path = unique("metrics.json"), data = Self.random(100_000)
        let date = "Mon, 01 Jan 2024 00:00:00 GMT", now = "Mon, 01 Jan 2024 00:00:01 GMT"
        scripted.route(path) { request, count in
            count == 1 ? ScriptedServer.Response(status: 200, headers: [("Last-Modified", date), ("Date", now)], body: data, cutAfter: 30_000)
                : ScriptedServer.file(data, lastModified: date, request: request)
        }
        let result = try download(path)
        #expect(try Data(contentsOf: result.file) == data)
        #expect(scripted.requests(path).last?.ifRange == date)
        #expect(scripted.requests(path).last?.range == "bytes=30000-")
    }

    @Test("a Last-Modified beside a weak ETag, or as new as the response's Date, or with no Date, is no validator: the download starts over", arguments: [
        [("ETag", "W/\"v1\""), ("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT"), ("Date", "Tue, 02 Jan 2024 00:00:00 GMT")],
        [("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT"), ("Date", "Mon, 01 Jan 2024 00:00:00 GMT")],
        [("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT")],
    ])
    func weakValidatorsAreNotUsed(headers: [(String, String)]) throws {
        let path = unique("metrics.json"), data = Self.random(100_000)
        scripted.route(path) { request, count in
            count == 1 ? ScriptedServer.Response(status: 200, headers: headers, body: data, cutAfter: 30_000)
                : ScriptedServer.Response(status: 200, headers: headers, body: data)
        }
        let result = try download(path)
        #expect(try Data(contentsOf: result.file) == data)
        #expect(scripted.requests(path).map(\.range) == [nil, nil])
        #expect(scripted.requests(path).allSatisfy { $0.ifRange == nil })
    }

    @Test("a 206 that does not give the file's size is not appended: the download starts over from zero")
    func rangeWithoutTotalStartsOver() throws {
        let path = unique("model_final_abcdef.pkl"), data = Self.random(100_000)
        scripted.route(path) { request, count in
            switch count {
            case 1: return ScriptedServer.Response(status: 200, headers: [("ETag", "\"v1\"")], body: data, cutAfter: 40_000)
            case 2: return ScriptedServer.Response(status: 206, headers: [("ETag", "\"v1\""), ("Content-Range", "bytes 40000-49999/*")],
                                                   body: data[40_000..<50_000])
            default: return ScriptedServer.file(data, etag: "\"v1\"", request: request)
            }
        }
        let result = try download(path)
        #expect(try Data(contentsOf: result.file) == data)
        #expect(scripted.requests(path).map(\.range) == [nil, "bytes=40000-", nil])
    }

    @Test("a file that changed on the server between attempts is downloaded whole, not spliced (If-Range honoured)")
    func changedFileWithIfRange() throws {
        let path = unique("R-101.pkl"), old = Self.random(200_000), new = Self.random(200_000)
        scripted.route(path) { request, count in
            count == 1 ? ScriptedServer.Response(status: 200, headers: [("ETag", "\"old\"")], body: old, cutAfter: 90_000)
                : ScriptedServer.file(new, etag: "\"new\"", request: request)
        }
        let result = try download(path)
        #expect(try Data(contentsOf: result.file) == new)
        #expect(!result.resumed)
    }

    @Test("a server that ignores If-Range but sends the new file's ETag with its 206 is not spliced")
    func changedFileIgnoringIfRange() throws {
        let path = unique("X-152.pkl"), old = Self.random(200_000), new = Self.random(200_000)
        scripted.route(path) { request, count in
            count == 1 ? ScriptedServer.Response(status: 200, headers: [("ETag", "\"old\"")], body: old, cutAfter: 90_000)
                : ScriptedServer.file(new, etag: "\"new\"", request: request, honourIfRange: false)
        }
        let result = try download(path)
        #expect(try Data(contentsOf: result.file) == new)
        let requests = scripted.requests(path)
        #expect(requests.count == 3)
        #expect(requests.last?.range == nil)
    }

    @Test("a partial file with no resume record and no md5 in its name is not resumed")
    func noValidatorNoMD5StartsFromZero() throws {
        let server = try #require(FaultServer.shared, "python3 fault server did not start")
        let name = "metrics-\(UUID().uuidString).json"
        let served = Self.random(50_000)
        try server.serve(served, as: name)
        var opts = options()
        opts.mirror = server.base("ok")
        let url = "https://dl.fbaipublicfiles.com/detectron2/nomd5-\(UUID().uuidString)/\(name)"
        let target = opts.cache.path(forURL: url)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        // Bytes of some earlier version of the file (the fault server sends no validator).
        try Self.random(20_000).write(to: URL(fileURLWithPath: target.path + ".part"))
        let file = try fetchFile(url: url, md5Prefix: nil, options: opts)
        #expect(try Data(contentsOf: file) == served)
        let requests = try server.requests(containing: String(url.dropFirst(FetchOptions.canonicalBase.count)))
        #expect(requests.count == 1)
        #expect(requests.first?.range == nil)
    }

    @Test("a Content-Range total other than the recorded one starts the file over")
    func totalMismatchStartsOver() throws {
        let server = try #require(FaultServer.shared, "python3 fault server did not start")
        let data = TestCheckpoint.data
        try #require(!data.isEmpty, "md5 tail search failed")
        try server.serve(data, as: TestCheckpoint.name)
        let tag = "total-\(UUID().uuidString)"
        let url = server.base("ok") + "\(tag)/\(TestCheckpoint.name)"
        let target = work.appendingPathComponent("total/\(TestCheckpoint.name)")
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        let part = target.path + ".part"
        try data.prefix(1_000_000).write(to: URL(fileURLWithPath: part))
        try ResumeRecord(url: url, etag: nil, lastModified: nil, total: Int64(data.count + 1)).write(forPart: part)
        let result = try Downloader.download(url: url, to: target, md5Prefix: TestCheckpoint.prefix, options: options())
        #expect(try Data(contentsOf: target) == data)
        #expect(result.bytesReceived == Int64(data.count))
        #expect(try server.requests(containing: tag).map(\.range) == ["bytes=1000000-", nil])
    }

    @Test("a checksum mismatch after resuming is retried once from zero")
    func checksumFailureAfterResumeRetriesFromZero() throws {
        let server = try #require(FaultServer.shared, "python3 fault server did not start")
        try #require(!TestCheckpoint.data.isEmpty, "md5 tail search failed")
        try server.serve(TestCheckpoint.data, as: TestCheckpoint.name)
        var opts = options()
        opts.mirror = server.base("ok")
        let url = "https://dl.fbaipublicfiles.com/detectron2/respin-\(UUID().uuidString)/\(TestCheckpoint.name)"
        let target = opts.cache.path(forURL: url)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Self.random(1_000_000).write(to: URL(fileURLWithPath: target.path + ".part"))
        let file = try fetchWeights(url: url, md5Prefix: TestCheckpoint.prefix, options: opts)
        #expect(try Data(contentsOf: file) == TestCheckpoint.data)
        let requests = try server.requests(containing: String(url.dropFirst(FetchOptions.canonicalBase.count)))
        #expect(requests.map(\.range) == ["bytes=1000000-", nil])
    }

    // MARK: Finding 2: only whole bodies of 200 or 206

    @Test("statuses that do not carry the file are refused and leave nothing", arguments: [204, 203, 300, 304])
    func statusWithoutTheFile(status: Int) throws {
        let path = unique("R-50-\(status).pkl")
        scripted.route(path) { _, _ in ScriptedServer.Response(status: status, body: Data("not the file".utf8)) }
        #expect(throws: DownloadError.httpStatus(status, url: scripted.url(path))) { try self.download(path) }
        #expect(!FileManager.default.fileExists(atPath: destination(path).path))
        #expect(!FileManager.default.fileExists(atPath: destination(path).path + ".part"))
    }

    @Test("a 206 that ends before the last byte is continued, not kept as the whole file")
    func short206() throws {
        let path = unique("R-50-short.pkl"), data = Self.random(200_000)
        scripted.route(path) { request, count in
            switch count {
            case 1: return ScriptedServer.Response(status: 200, headers: [("ETag", "\"e\"")], body: data, cutAfter: 50_000)
            case 2:
                let start = request.rangeStart ?? 0
                return ScriptedServer.Response(status: 206, headers: [("ETag", "\"e\""), ("Content-Range", "bytes \(start)-\(start + 9_999)/\(data.count)")],
                                               body: data.subdata(in: start..<(start + 10_000)))
            default: return ScriptedServer.file(data, etag: "\"e\"", request: request)
            }
        }
        let result = try download(path)
        #expect(try Data(contentsOf: result.file) == data)
        #expect(scripted.requests(path).map(\.range) == [nil, "bytes=50000-", "bytes=60000-"])
    }

    // MARK: Finding 7: a complete .part answered with 416

    /// The test checkpoint served at a new path, with `partial` already in its `.part` file:
    /// the path and the download's destination.
    func checkpointWithPartial(_ partial: (Data) -> Data) throws -> (path: String, target: URL) {
        let data = TestCheckpoint.data
        try #require(!data.isEmpty, "md5 tail search failed")
        let path = unique(TestCheckpoint.name)
        scripted.route(path) { request, _ in ScriptedServer.file(data, request: request) }
        let target = destination(path)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try partial(data).write(to: URL(fileURLWithPath: target.path + ".part"))
        return (path, target)
    }

    @Test("a complete partial file answered with 416 */size is verified and used without downloading again")
    func complete416() throws {
        let data = TestCheckpoint.data
        let (path, target) = try checkpointWithPartial { $0 }
        let result = try download(path, md5Prefix: TestCheckpoint.prefix)
        #expect(try Data(contentsOf: target) == data)
        #expect(result.bytesReceived == 0)
        #expect(scripted.requests(path).map(\.range) == ["bytes=\(data.count)-"])
    }

    @Test("a partial file of the right size but wrong bytes answered with 416 is replaced by a fresh download")
    func complete416ButCorrupt() throws {
        let data = TestCheckpoint.data
        let (path, target) = try checkpointWithPartial { data in
            var wrong = data
            wrong[10] ^= 0xff
            return wrong
        }
        let result = try download(path, md5Prefix: TestCheckpoint.prefix)
        #expect(try Data(contentsOf: target) == data)
        #expect(scripted.requests(path).map(\.range) == ["bytes=\(data.count)-", nil])
        #expect(result.bytesReceived == Int64(data.count))
    }
}
