import Foundation
import Testing
import ZooKit

/// `zoo run` refusing bad input before it runs (outputs over its own inputs, an empty image
/// argument, --resume without --json, a mistyped weights path) and stopping on the first Ctrl-C.
@Suite struct RunCommandSafetyTests {
    let work: URL
    let environment: [String: String]
    static let models = TestSupport.fixtures.appendingPathComponent("models")
    static let images = TestSupport.fixtures.appendingPathComponent("images")
    static let weights = models.appendingPathComponent("tiny_faster_rcnn_R_50_FPN.pkl").path
    static let config = models.appendingPathComponent("tiny_faster_rcnn_R_50_FPN.yaml").path

    /// A scratch folder, and an index whose `tiny-mask` entry is fetched from a `file://` mirror.
    init() throws {
        let mirror = try TinyMaskMirror(prefix: "zoo-run-safety")
        work = mirror.work
        environment = mirror.environment
    }

    /// A started `zoo` whose output is collected in the background.
    final class RunningZoo: @unchecked Sendable {
        let process = Process()
        private let lock = NSLock()
        private var out = Data(), err = Data()
        private let group = DispatchGroup()

        init(_ arguments: [String], environment: [String: String], directory: URL? = nil) throws {
            guard let binary = TestSupport.zooBinary else {
                throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "zoo binary not found; build it with swift build first"])
            }
            process.executableURL = binary
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            if let directory { process.currentDirectoryURL = directory }
            process.standardInput = FileHandle.nullDevice
            let outPipe = Pipe(), errPipe = Pipe()
            process.standardOutput = outPipe
            process.standardError = errPipe
            try process.run()
            for (pipe, isOut) in [(outPipe, true), (errPipe, false)] {
                group.enter()
                DispatchQueue.global().async { [self] in
                    let data = pipe.fileHandleForReading.readDataToEndOfFile()
                    lock.lock(); if isOut { out = data } else { err = data }; lock.unlock()
                    group.leave()
                }
            }
        }

        /// Waits for the end (killing the process after `timeout` seconds); status, stdout, stderr.
        func finish(timeout: Double = 300) -> (status: Int32, exited: Bool, stdout: String, stderr: String) {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning, Date() < deadline { usleep(20_000) }
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            group.wait()
            lock.lock(); defer { lock.unlock() }
            return (process.terminationStatus, process.terminationReason == .exit,
                    String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
        }
    }

    func run(_ arguments: [String], environment extra: [String: String] = [:], directory: URL? = nil) throws
        -> (status: Int32, exited: Bool, stdout: String, stderr: String) {
        try RunningZoo(arguments, environment: environment.merging(extra) { $1 }, directory: directory).finish()
    }

    func copy(_ source: String, to name: String) throws -> URL {
        let url = work.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: URL(fileURLWithPath: source), to: url)
        return url
    }

    @Test func jsonOverAPictureTheModelTheConfigItsBaseOrTheIndexIsRefusedBeforeLoading() throws {
        defer { try? FileManager.default.removeItem(at: work) }
        let image = try copy(Self.images.appendingPathComponent("img5_tiny_64x48.png").path, to: "in/x.png")
        let model = try copy(Self.weights, to: "model/w.pkl")
        let base = try copy(Self.config, to: "cfg/base.yaml")
        let child = work.appendingPathComponent("cfg/child.yaml")
        try "_BASE_: base.yaml\nINPUT:\n  FORMAT: BGR\n".write(to: child, atomically: true, encoding: .utf8)
        let index = work.appendingPathComponent("extra-index.json")
        try "{\"entries\": []}".write(to: index, atomically: true, encoding: .utf8)
        let pictures = work.appendingPathComponent("pictures")
        try FileManager.default.createDirectory(at: pictures, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: work.appendingPathComponent("alias"), withDestinationURL: pictures)
        let zooIndex = URL(fileURLWithPath: try #require(environment["ZOO_INDEX"]))

        let common = ["run", model.path, image.path, "--config", child.path, "--quiet"]
        let cases: [(args: [String], says: String)] = [
            // The picture would be renamed over the JSON file while its writer holds it.
            (common + ["--json", pictures.appendingPathComponent("x.png").path, "--output", pictures.path],
             "--json is where the picture of"),
            (common + ["--json", work.appendingPathComponent("alias/x.png").path, "--output", pictures.path],
             "--json is where the picture of"),
            (common + ["--json", child.path], "the --config file"),
            (common + ["--json", work.appendingPathComponent("cfg/../cfg/./child.yaml").path], "the --config file"),
            (common + ["--json", base.path], "the _BASE_ file"),
            (common + ["--json", model.path], "the MODEL file"),
            (common + ["--json", index.path, "--index", index.path], "the --index file"),
            (common + ["--json", zooIndex.path], "the ZOO_INDEX file"),
        ]
        let protected = [image, model, base, child, index, zooIndex]
        let before = try protected.map { try Data(contentsOf: $0) }
        for (args, says) in cases {
            let r = try run(args)
            #expect(r.status == 1, "\(args): \(r.stderr)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && r.stderr.contains(says), "\(args): \(r.stderr)")
            #expect(!r.stderr.contains("loaded"), "refused only after loading the model: \(r.stderr)")
            #expect(try protected.map { try Data(contentsOf: $0) } == before, "\(args) changed an input")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: pictures.path).isEmpty)
    }

    @Test func emptyImageArgumentIsRefusedNotTheCurrentDirectory() throws {
        defer { try? FileManager.default.removeItem(at: work) }
        // `zoo run M "$IMG"` with IMG unset, in a folder holding an image.
        let folder = work.appendingPathComponent("here")
        _ = try copy(Self.images.appendingPathComponent("img5_tiny_64x48.png").path, to: "here/a.png")
        let out = work.appendingPathComponent("out.jsonl")
        let r = try run(["run", Self.weights, "", "--config", Self.config, "--json", out.path, "--quiet"], directory: folder)
        #expect(r.status == 1, "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("empty"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test func resumeWithoutJSONIsAUsageError() throws {
        defer { try? FileManager.default.removeItem(at: work) }
        let r = try run(["run", Self.weights, Self.images.appendingPathComponent("img5_tiny_64x48.png").path,
                         "--config", Self.config, "--resume", "--quiet"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--resume needs --json FILE"), "\(r.stderr)")
        #expect(r.stdout.isEmpty, "ran anyway: \(r.stdout)")
    }

    @Test(arguments: ["./w/modle.pkl", "weights/final.safetensors", "modle.pkl", "cfg/mine.yaml"])
    func mistypedWeightsPathIsAMissingFileNotAnUnknownId(model: String) throws {
        defer { try? FileManager.default.removeItem(at: work) }
        let r = try run(["run", model, Self.images.appendingPathComponent("img5_tiny_64x48.png").path, "--config", Self.config])
        #expect(r.status == 1, "\(r.stderr)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && r.stderr.contains("\(model): no such file"), "\(r.stderr)")
        // A name that does not read as a path is still looked up in the index.
        let id = try run(["run", "tiny-mask-x", Self.images.appendingPathComponent("img5_tiny_64x48.png").path])
        #expect(id.status == 1 && id.stderr.contains("no zoo entry has the id, config or name \"tiny-mask-x\""), "\(id.stderr)")
    }

    /// `zoo run tiny-mask FOLDER` (a zoo id: its weights fetched first), sent one SIGINT once the
    /// first picture is drawn: it stops after the image in progress with status 130.
    @Test(arguments: [false, true])
    func firstCtrlCStopsAZooIdRunAfterTheCurrentImage(json: Bool) throws {
        defer { try? FileManager.default.removeItem(at: work) }
        // Enough images that the run cannot finish between the first picture and the signal.
        let count = 40
        for n in 0..<count {
            _ = try copy(Self.images.appendingPathComponent("img3_640x427.png").path, to: "photos/p\(n).png")
        }
        let pictures = work.appendingPathComponent("pictures")
        let out = work.appendingPathComponent("out.jsonl")
        var args = ["run", "tiny-mask", work.appendingPathComponent("photos").path,
                    "--config", Self.models.appendingPathComponent("tiny_mask_rcnn_R_50_FPN.yaml").path,
                    "--output", pictures.path]
        if json { args += ["--json", out.path] }
        let zoo = try RunningZoo(args, environment: environment)
        func drawn() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: pictures.path)) ?? []).filter { $0.hasPrefix("p") && $0.hasSuffix(".png") }
        }
        let deadline = Date().addingTimeInterval(240)
        while zoo.process.isRunning, drawn().isEmpty, Date() < deadline { usleep(10_000) }
        zoo.process.interrupt()
        let r = zoo.finish()
        #expect(r.exited && r.status == 130, "status \(r.status), exited \(r.exited): \(r.stderr)")
        #expect(r.stderr.contains("interrupted"), "\(r.stderr)")
        let done = drawn().count
        #expect(done >= 1 && done < count, "\(done) of \(count) images drawn")
        if json {
            let lines = try String(contentsOf: out, encoding: .utf8).split(separator: "\n")
            #expect(lines.count == done)
            #expect(lines.allSatisfy { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) != nil })
        } else {
            #expect(r.stdout.split(separator: "\n").count == done, "\(r.stdout)")
        }
    }
}
