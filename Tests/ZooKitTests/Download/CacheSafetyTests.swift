import Foundation
import Testing
@testable import ZooKit

/// The manifest read strictly, removal under the fetch's lock and of files only, `rm --all` keeping
/// what zoo did not make, and error messages that say what really happened.
@Suite("Cache safety")
final class CacheSafetyTests {
    let work: URL
    let cache: ModelCache

    init() throws {
        work = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-safety-\(UUID().uuidString)")
        cache = ModelCache(root: work.appendingPathComponent("cache"))
        try FileManager.default.createDirectory(at: cache.root, withIntermediateDirectories: true)
    }

    /// Each test has its own instance, so this removes the test's folder when the test ends.
    deinit { try? FileManager.default.removeItem(at: work) }

    /// Writes `text` at `relative` below the cache root, making its folders.
    @discardableResult
    func place(_ relative: String, _ text: String = "x") throws -> URL {
        let file = cache.root.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
        return file
    }

    func exists(_ relative: String) -> Bool {
        var info = stat()
        return lstat(cache.root.appendingPathComponent(relative).path, &info) == 0
    }

    // MARK: Finding 3: the manifest is read strictly

    @Test("a corrupt manifest stops a fetch before any download, naming the manifest and zoo cache verify --fix")
    func corruptManifestStopsFetch() throws {
        let server = try #require(FaultServer.shared, "python3 fault server did not start")
        let name = "R-50-\(UUID().uuidString).pkl"
        try server.serve(Data("first version".utf8), as: name)
        var opts = FetchOptions(environment: ["HOME": work.path])
        opts.cache = cache
        opts.mirror = server.base("ok")
        opts.retryDelay = 0.01
        let url = "https://dl.fbaipublicfiles.com/detectron2/pinned/\(name)"
        let file = try fetchFile(url: url, md5Prefix: nil, options: opts)
        try Data("second version".utf8).write(to: server.root.appendingPathComponent(name))
        let manifest = cache.root.appendingPathComponent("manifest.json")
        try Data("garbage".utf8).write(to: manifest)
        var thrown: DownloadError?
        do { _ = try fetchFile(url: url, md5Prefix: nil, options: opts) } catch let error as DownloadError { thrown = error }
        guard case .manifest? = thrown else {
            Issue.record("expected a manifest error, got \(String(describing: thrown))")
            return
        }
        let line = thrown?.description ?? ""
        #expect(line.contains(manifest.path) && line.contains("zoo cache verify --fix") && !line.contains("\n"))
        #expect(try Data(contentsOf: file) == Data("first version".utf8))
        #expect(try server.requests(containing: name).count == 1)
    }

    @Test("a manifest that cannot be read is an error, never an empty cache that the next update overwrites")
    func unreadableManifestIsNotEmpty() throws {
        let manifest = cache.root.appendingPathComponent("manifest.json")
        try FileManager.default.createDirectory(at: manifest, withIntermediateDirectories: true)
        #expect(throws: DownloadError.io(operation: "read", path: manifest.path, errno: EISDIR)) { try self.cache.manifest.read() }
        #expect(throws: DownloadError.self) { try self.cache.removeRecords(paths: ["x"]) }
        #expect(cache.cachedFile(forURL: "https://dl.fbaipublicfiles.com/detectron2/a/model_final_abcdef.pkl") == nil)
        // An absent manifest is an empty one.
        try FileManager.default.removeItem(at: manifest)
        #expect(try cache.manifest.read().isEmpty)
    }

    // MARK: Finding 4: rm takes the fetch's lock

    @Test("removal refuses a file whose lock a fetch holds, and removes nothing of it")
    func removeRefusesLockedFile() throws {
        let url = "https://dl.fbaipublicfiles.com/detectron2/locked/model_final_abcdef.pkl"
        let file = cache.path(forURL: url)
        try place("detectron2/locked/model_final_abcdef.pkl.part", "partial")
        try place("manifest.json", "[]")
        let held = try FileLock(path: file.path + ".lock")
        #expect(throws: DownloadError.inUse(file: file.path)) { try CacheRemoval(cache: self.cache).remove(url: url) }
        #expect(exists("detectron2/locked/model_final_abcdef.pkl.part"))
        #expect(exists("detectron2/locked/model_final_abcdef.pkl.lock"))
        #expect(throws: DownloadError.inUse(file: file.path)) { try CacheRemoval(cache: self.cache).removeAll() }
        #expect(exists("detectron2/locked/model_final_abcdef.pkl.part"))
        held.unlock()
        #expect(try CacheRemoval(cache: cache).remove(url: url) == [file.path + ".part"])
        #expect(!exists("detectron2/locked/model_final_abcdef.pkl.part"))
        #expect(!exists("detectron2/locked/model_final_abcdef.pkl.lock"))
    }

    @Test("a fetch waiting on a lock file that rm removes takes the new lock file, so two holders never overlap")
    func lockSurvivesRemoval() throws {
        try #require(FileManager.default.fileExists(atPath: "/proc/self/fd"), "needs /proc to see the waiter open the lock file")
        let path = cache.root.appendingPathComponent("x.pkl.lock").path
        let first = try #require(try FileLock.attempt(path: path))
        final class Box: @unchecked Sendable { var lock: FileLock?; var error: Error? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            do { box.lock = try FileLock(path: path) } catch { box.error = error }
            done.signal()
        }
        thread.start()
        // Remove the lock file only once the waiter has it open (a second descriptor on it), as a
        // fetch waiting while rm holds the lock does.
        let deadline = Date().addingTimeInterval(60)
        while Self.descriptors(on: path) < 2, Date() < deadline { usleep(1_000) }
        try #require(Self.descriptors(on: path) >= 2, "the waiting thread never opened the lock file")
        first.removeAndUnlock()
        done.wait()
        #expect(box.error == nil)
        // The waiter holds the lock file now at `path`, so nobody else can take it.
        #expect(try FileLock.attempt(path: path) == nil)
        box.lock?.unlock()
        #expect(try FileLock.attempt(path: path) != nil)
    }

    /// This process's open descriptors on the file at `path` (Linux /proc).
    static func descriptors(on path: String) -> Int {
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return fds.filter { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\($0)")) == path }.count
    }

    // MARK: Finding 5: rm --all removes zoo's entries only

    @Test("rm --all removes zoo's own entries and leaves everything else")
    func removeAllKeepsForeignFiles() throws {
        try place("manifest.json", "[]")
        try place("manifest.lock", "")
        try place("manifest.json.corrupt", "garbage")
        try place(".manifest.json.123.456.tmp")
        try place("detectron2/a/1/model_final_abcdef.pkl")
        try place("detectron2/a/1/model_final_abcdef.pkl.lock", "")
        try place("detectron2/b/2/R-50.pkl.part")
        try place("detectron2/b/2/R-50.pkl.part.resume", "{}")
        try place("winograd/ab.wino")
        try place("thesis.tex", "precious")
        try place("photos/cat.jpg", "precious")
        let summary = try CacheRemoval(cache: cache).removeAll()
        #expect(summary.kept == ["photos", "thesis.tex"])
        #expect(summary.removed == 5)
        #expect(exists("thesis.tex") && exists("photos/cat.jpg"))
        for gone in ["manifest.json", "manifest.lock", "manifest.json.corrupt", ".manifest.json.123.456.tmp", "detectron2", "winograd"] {
            #expect(!exists(gone), "\(gone)")
        }
    }

    @Test("rm --all leaves zoo-like names inside another folder alone, and empties a cache holding only an interrupted first fetch")
    func removeAllOnlyZooNamesOfZooFolders() throws {
        try place("detectron2/a/1/model_final_abcdef.pkl.part")
        try place("detectron2/a/1/model_final_abcdef.pkl.lock", "")
        try place("project/Cargo.lock", "precious")
        try place("project/build.part", "precious")
        try place("project/.notes.123.456.tmp", "precious")
        let summary = try CacheRemoval(cache: cache).removeAll()
        #expect(summary.kept == ["project"])
        for kept in ["project/Cargo.lock", "project/build.part", "project/.notes.123.456.tmp"] {
            #expect(exists(kept), "\(kept)")
        }
        #expect(!exists("detectron2"))
    }

    @Test("rm --all leaves a folder that has nothing of zoo's alone")
    func removeAllRefusesForeignFolder() throws {
        try place("docs/thesis.tex", "precious")
        #expect(throws: DownloadError.notACache(path: cache.root.path)) { try CacheRemoval(cache: self.cache).removeAll() }
        #expect(exists("docs/thesis.tex"))
    }

    // MARK: Finding 6: rm removes files only

    @Test("removing a URL that names a folder is refused and removes nothing")
    func removeFolderURLRefused() throws {
        try place("detectron2/COCO-Detection/faster/1/model_final_abcdef.pkl")
        let url = "https://dl.fbaipublicfiles.com/detectron2/COCO-Detection/"
        #expect(throws: DownloadError.notAFile(path: cache.path(forURL: url).path, kind: "a folder")) {
            try CacheRemoval(cache: self.cache).remove(url: url)
        }
        #expect(exists("detectron2/COCO-Detection/faster/1/model_final_abcdef.pkl"))
    }

    // MARK: Finding 8: messages that say what happened

    @Test("a failed mkdir reports its real errno")
    func mkdirErrno() throws {
        let blocker = try place("blocker", "a file, not a folder")
        var opts = FetchOptions(environment: ["HOME": work.path])
        opts.cache = cache
        #expect(throws: DownloadError.io(operation: "mkdir", path: blocker.path, errno: ENOTDIR)) {
            try Downloader.download(url: "file:///nonexistent", to: blocker.appendingPathComponent("sub/x.pkl"), md5Prefix: nil, options: opts)
        }
    }

    @Test("a failed copy from detectron2's cache reports the real error and the side that failed")
    func copyErrno() throws {
        let source = try place("source.pkl", "weights")
        let target = try place("target.pkl", "already here")
        #expect(throws: DownloadError.io(operation: "copy from detectron2's cache: create", path: target.path, errno: EEXIST)) {
            try copyFile(from: source.path, to: target.path)
        }
        let missing = cache.root.appendingPathComponent("missing.pkl").path
        #expect(throws: DownloadError.io(operation: "copy from detectron2's cache: open", path: missing, errno: ENOENT)) {
            try copyFile(from: missing, to: cache.root.appendingPathComponent("new.pkl").path)
        }
    }

    @Test("Ctrl-C while waiting for another fetch's lock does not claim a partial file was kept")
    func interruptedWaitingMessage() {
        let line = DownloadError.interruptedWaiting(file: "/c/x.pkl").description
        #expect(line.contains("/c/x.pkl") && line.contains("waiting"))
        #expect(!line.contains("resumes") && !line.contains(".lock"))
        #expect(DownloadError.interruptedWaiting(file: "/c/x.pkl").isInterruption)
    }
}
