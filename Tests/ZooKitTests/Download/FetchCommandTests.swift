import Foundation
import Testing
@testable import ZooKit

/// `zoo fetch` and `zoo cache` as processes: Ctrl-C then resume, two processes at once, unknown ids,
/// offline, and the cache subcommands. Entries come from a test index (ZOO_INDEX) whose URLs are
/// the canonical ones, fetched through `--mirror` from the fault server.
@Suite("zoo fetch and zoo cache")
final class FetchCommandTests {
    let server: FaultServer
    let work: URL
    let id: String
    let url: String
    let environment: [String: String]

    init() throws {
        server = try #require(FaultServer.shared, "python3 fault server did not start")
        try #require(!TestCheckpoint.data.isEmpty, "md5 tail search failed")
        try server.serve(TestCheckpoint.data, as: TestCheckpoint.name)
        work = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        id = "test-\(UUID().uuidString.prefix(8))"
        url = "https://dl.fbaipublicfiles.com/detectron2/Test/\(id)/1/\(TestCheckpoint.name)"
        let index = """
        {"entries": [{"id": "\(id)", "config": "Test/\(id).yaml", "weights_url": "\(url)", "md5_prefix": "\(TestCheckpoint.prefix)"}]}
        """
        let indexFile = work.appendingPathComponent("index.json")
        try Data(index.utf8).write(to: indexFile)
        environment = ["ZOO_CACHE": work.appendingPathComponent("cache").path, "ZOO_INDEX": indexFile.path,
                       "ZOO_RETRY_DELAY": "0.01", "ZOO_MIRROR": ""]
    }

    /// Each test has its own instance, so this removes the test's folder (index and cache) when the test ends.
    deinit { try? FileManager.default.removeItem(at: work) }

    var cachedFile: URL { work.appendingPathComponent("cache").appendingPathComponent(ModelCache.relativePath(forURL: url)) }
    var fragment: String { "Test/\(id)/" }
    var cacheRoot: URL { work.appendingPathComponent("cache") }

    /// Starts `zoo` without waiting for it.
    func launch(_ arguments: [String]) throws -> (Process, Pipe, Pipe) {
        let binary = try #require(TestSupport.zooBinary, "build zoo first")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return (process, out, err)
    }

    func finish(_ launched: (Process, Pipe, Pipe)) -> (status: Int32, stdout: String, stderr: String) {
        let out = launched.1.fileHandleForReading.readDataToEndOfFile()
        let err = launched.2.fileHandleForReading.readDataToEndOfFile()
        launched.0.waitUntilExit()
        return (launched.0.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    @Test("Ctrl-C keeps the partial file; the next run resumes it with a Range request")
    func interruptThenResume() throws {
        let running = try launch(["fetch", id, "--mirror", server.base("slow")])
        let part = cachedFile.path + ".part"
        let deadline = Date().addingTimeInterval(30)
        while (fileSize(URL(fileURLWithPath: part)) ?? 0) < 300_000, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.05)
        }
        running.0.interrupt()
        let first = finish(running)
        #expect(first.status == 130, "stderr: \(first.stderr)")
        #expect(first.stderr.contains("interrupted"))
        let kept = try #require(fileSize(URL(fileURLWithPath: part)))
        #expect(kept > 0 && kept < Int64(TestCheckpoint.data.count))
        #expect(!FileManager.default.fileExists(atPath: cachedFile.path))

        let second = try TestSupport.runZoo(["fetch", id, "--mirror", server.base("ok")], environment: environment)
        #expect(second.status == 0, "stderr: \(second.stderr)")
        #expect(second.stdout == cachedFile.path + "\n")
        #expect(try Data(contentsOf: cachedFile) == TestCheckpoint.data)
        let resumed = try server.requests(containing: "/ok/detectron2/" + fragment)
        #expect(resumed.count == 1)
        #expect(resumed.first?.range == "bytes=\(kept)-")
    }

    @Test("two zoo fetch processes for one id: one downloads, the other waits and reuses the file")
    func twoProcesses() throws {
        let a = try launch(["fetch", id, "--mirror", server.base("slow")])
        let b = try launch(["fetch", id, "--mirror", server.base("slow")])
        let ra = finish(a), rb = finish(b)
        #expect(ra.status == 0, "stderr: \(ra.stderr)")
        #expect(rb.status == 0, "stderr: \(rb.stderr)")
        #expect(ra.stdout == cachedFile.path + "\n")
        #expect(rb.stdout == ra.stdout)
        #expect(try Data(contentsOf: cachedFile) == TestCheckpoint.data)
        #expect(try server.requests(containing: fragment).count == 1)
    }

    @Test("an unknown id fails with a clear line and downloads nothing")
    func unknownID() throws {
        let result = try TestSupport.runZoo(["fetch", "no_such_model_\(id)", "--mirror", server.base("ok")], environment: environment)
        #expect(result.status != 0)
        #expect(result.stderr.contains("no_such_model_\(id)"))
        #expect(result.stdout.isEmpty)
    }

    @Test("offline: a miss names the file, a hit prints the cached path")
    func offline() throws {
        let miss = try TestSupport.runZoo(["fetch", id, "--offline"], environment: environment)
        #expect(miss.status == 1)
        #expect(miss.stderr.contains(cachedFile.path))
        #expect(try server.requests(containing: fragment).isEmpty)
        let fetched = try TestSupport.runZoo(["fetch", id, "--mirror", server.base("ok")], environment: environment)
        #expect(fetched.status == 0, "stderr: \(fetched.stderr)")
        var env = environment
        env["ZOO_OFFLINE"] = "1"
        let hit = try TestSupport.runZoo(["fetch", id], environment: env)
        #expect(hit.status == 0)
        #expect(hit.stdout == cachedFile.path + "\n")
    }

    @Test("zoo cache ls, verify (and --fix) and rm")
    func cacheCommands() throws {
        let fetched = try TestSupport.runZoo(["fetch", id, "--mirror", server.base("ok")], environment: environment)
        #expect(fetched.status == 0, "stderr: \(fetched.stderr)")
        let ls = try TestSupport.runZoo(["cache", "ls", "--json"], environment: environment)
        let rows = try JSONDecoder().decode([CacheFileStatus].self, from: Data(ls.stdout.utf8))
        let relative = ModelCache.relativePath(forURL: url)
        #expect(rows.first { $0.path == relative }?.state == "verified")
        #expect(rows.first { $0.path == relative }?.size == Int64(TestCheckpoint.data.count))

        #expect(try TestSupport.runZoo(["cache", "verify"], environment: environment).status == 0)
        var bytes = TestCheckpoint.data
        bytes[1000] ^= 0xff
        try bytes.write(to: cachedFile)
        let bad = try TestSupport.runZoo(["cache", "verify"], environment: environment)
        #expect(bad.status != 0)
        #expect(bad.stdout.contains("CORRUPT"))
        #expect(FileManager.default.fileExists(atPath: cachedFile.path))
        let fixed = try TestSupport.runZoo(["cache", "verify", "--fix"], environment: environment)
        #expect(fixed.status == 0)
        #expect(!FileManager.default.fileExists(atPath: cachedFile.path))

        _ = try TestSupport.runZoo(["fetch", id, "--mirror", server.base("ok")], environment: environment)
        #expect(FileManager.default.fileExists(atPath: cachedFile.path))
        let rm = try TestSupport.runZoo(["cache", "rm", id], environment: environment)
        #expect(rm.status == 0)
        #expect(!FileManager.default.fileExists(atPath: cachedFile.path))
        let after = try JSONDecoder().decode([CacheFileStatus].self, from: Data(try TestSupport.runZoo(["cache", "ls", "--json"], environment: environment).stdout.utf8))
        #expect(after.isEmpty)
    }

    @Test("zoo cache rm --all leaves a folder that is not a zoo cache alone")
    func removeAllRefusesAForeignFolder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-notcache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("docs"), withIntermediateDirectories: true)
        let thesis = folder.appendingPathComponent("docs/thesis.tex")
        try Data("precious".utf8).write(to: thesis)
        var env = environment
        env["ZOO_CACHE"] = folder.path
        let r = try TestSupport.runZoo(["cache", "rm", "--all"], environment: env)
        #expect(r.status != 0)
        #expect(r.stderr.contains("does not look like a zoo cache"), "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: thesis.path))
    }

    @Test("an unreadable manifest is never silently rewritten; verify --fix sets it aside and rebuilds")
    func corruptManifest() throws {
        let fetched = try TestSupport.runZoo(["fetch", id, "--mirror", server.base("ok")], environment: environment)
        #expect(fetched.status == 0, "stderr: \(fetched.stderr)")
        let manifest = cacheRoot.appendingPathComponent("manifest.json")
        try Data("garbage".utf8).write(to: manifest)
        let rm = try TestSupport.runZoo(["cache", "rm", id], environment: environment)
        #expect(rm.status != 0)
        #expect(rm.stderr.contains("manifest"), "\(rm.stderr)")
        #expect(FileManager.default.fileExists(atPath: cachedFile.path))
        #expect(try Data(contentsOf: manifest) == Data("garbage".utf8))
        // zoo fetch stops before downloading, in one line naming the manifest and the repair.
        let before = try server.requests(containing: fragment).count
        let refetch = try TestSupport.runZoo(["fetch", id, "--force", "--mirror", server.base("ok")], environment: environment)
        #expect(refetch.status != 0)
        #expect(refetch.stderr.contains(manifest.path) && refetch.stderr.contains("zoo cache verify --fix"), "\(refetch.stderr)")
        #expect(try server.requests(containing: fragment).count == before)
        let fix = try TestSupport.runZoo(["cache", "verify", "--fix"], environment: environment)
        #expect(fix.status == 0, "\(fix.stdout) \(fix.stderr)")
        #expect(fix.stdout.contains("manifest.json.corrupt"))
        #expect(try Data(contentsOf: cacheRoot.appendingPathComponent("manifest.json.corrupt")) == Data("garbage".utf8))
        #expect(try TestSupport.runZoo(["cache", "rm", id], environment: environment).status == 0)
        #expect(!FileManager.default.fileExists(atPath: cachedFile.path))
    }

    @Test("zoo cache rm does not follow a symbolic link out of the cache")
    func removeStaysInsideTheCache() throws {
        let outside = work.appendingPathComponent("outside/sub")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        let keep = outside.appendingPathComponent("keep.txt")
        try Data("keep".utf8).write(to: keep)
        try FileManager.default.createDirectory(at: cacheRoot, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: cacheRoot.appendingPathComponent("linkdir"),
                                                   withDestinationURL: work.appendingPathComponent("outside"))
        let r = try TestSupport.runZoo(["cache", "rm", "https://example.org/linkdir/sub/keep.txt"], environment: environment)
        #expect(r.stderr.contains("outside the cache"), "\(r.stdout) \(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: keep.path))
    }

    @Test("a mirror zoo cannot read from is one error before any transfer", arguments: ["ftp://x/", "https://", "not a url"])
    func unusableMirror(mirror: String) throws {
        var env = environment
        env["ZOO_MIRROR"] = mirror
        let r = try TestSupport.runZoo(["fetch", id], environment: env)
        #expect(r.status != 0)
        #expect(r.stderr.contains("is not an http:// or https:// URL"), "\(r.stderr)")
        #expect(!r.stderr.contains("attempt"), "\(r.stderr)")
        #expect(FetchOptions.isUsableMirror(server.base("ok")) && FetchOptions.isUsableMirror("file:///data/mirror/"))
    }

    @Test("zoo cache rm refuses a file a running fetch holds the lock of, and leaves it and its lock")
    func removeWaitsForNoFetch() throws {
        let fetched = try TestSupport.runZoo(["fetch", id, "--mirror", server.base("ok")], environment: environment)
        #expect(fetched.status == 0, "stderr: \(fetched.stderr)")
        let lockPath = cachedFile.path + ".lock"
        let held = try FileLock(path: lockPath)
        let rm = try TestSupport.runZoo(["cache", "rm", id], environment: environment)
        #expect(rm.status != 0)
        #expect(rm.stderr.contains(cachedFile.path) && rm.stderr.contains("another zoo process"), "\(rm.stderr)")
        #expect(FileManager.default.fileExists(atPath: cachedFile.path))
        #expect(FileManager.default.fileExists(atPath: lockPath))
        let all = try TestSupport.runZoo(["cache", "rm", "--all"], environment: environment)
        #expect(all.status != 0)
        #expect(FileManager.default.fileExists(atPath: cachedFile.path))
        held.unlock()
        #expect(try TestSupport.runZoo(["cache", "rm", id], environment: environment).status == 0)
        #expect(!FileManager.default.fileExists(atPath: cachedFile.path))
    }

    @Test("zoo cache rm --all removes zoo's files and leaves the rest of the folder")
    func removeAllLeavesOthers() throws {
        let fetched = try TestSupport.runZoo(["fetch", id, "--mirror", server.base("ok")], environment: environment)
        #expect(fetched.status == 0, "stderr: \(fetched.stderr)")
        let mine = cacheRoot.appendingPathComponent("notes/todo.txt")
        try FileManager.default.createDirectory(at: mine.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("precious".utf8).write(to: mine)
        let r = try TestSupport.runZoo(["cache", "rm", "--all"], environment: environment)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("notes"), "\(r.stdout)")
        #expect(try Data(contentsOf: mine) == Data("precious".utf8))
        #expect(!FileManager.default.fileExists(atPath: cachedFile.path))
        #expect(!FileManager.default.fileExists(atPath: cacheRoot.appendingPathComponent("manifest.json").path))
    }

    @Test("zoo cache rm with a folder's URL removes nothing and says the argument is a folder")
    func removeFolderURL() throws {
        let fetched = try TestSupport.runZoo(["fetch", id, "--mirror", server.base("ok")], environment: environment)
        #expect(fetched.status == 0, "stderr: \(fetched.stderr)")
        let folderURL = "https://dl.fbaipublicfiles.com/detectron2/Test/\(id)/"
        let r = try TestSupport.runZoo(["cache", "rm", folderURL], environment: environment)
        #expect(r.status != 0)
        #expect(r.stderr.contains("is a folder"), "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: cachedFile.path))
    }
}
