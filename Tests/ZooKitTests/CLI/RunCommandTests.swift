import Foundation
import Testing
import ZooKit

/// `zoo run` as a user runs it: a zoo id fetched through a mirror into the cache, converted to
/// safetensors on first use, run, and its JSON equal to detectron2's golden output.
@Suite struct RunCommandTests {
    let work: URL
    let environment: [String: String]
    static let models = TestSupport.fixtures.appendingPathComponent("models")
    static let images = TestSupport.fixtures.appendingPathComponent("images")

    init() throws {
        let mirror = try TinyMaskMirror(prefix: "zoo-run")
        work = mirror.work
        environment = mirror.environment
    }

    func golden(_ name: String) throws -> [String: Any] {
        let url = TestSupport.fixtures.appendingPathComponent("golden/\(name).json")
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any] ?? [:]
    }

    @Test func zooIdIsFetchedConvertedAndRunLikeDetectron2() throws {
        defer { try? FileManager.default.removeItem(at: work) }
        let out = work.appendingPathComponent("out.jsonl")
        let pictures = work.appendingPathComponent("pictures")
        let args = ["run", "tiny-mask", Self.images.appendingPathComponent("img3_640x427.png").path,
                    "--config", Self.models.appendingPathComponent("tiny_mask_rcnn_R_50_FPN.yaml").path,
                    "--json", out.path, "--output", pictures.path, "--quiet"]
        let first = try TestSupport.runZoo(args, environment: environment)
        #expect(first.status == 0, "\(first.stderr)")
        let lines = try String(contentsOf: out, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1)
        let record = try #require(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(try GoldenComparator.compare(golden: golden("tiny_mask_rcnn_R_50_FPN__img3_640x427"), candidate: record).isEmpty)
        let instances = try #require(record["instances"] as? [[String: Any]])
        #expect(instances.first?["class_name"] as? String == "triangle")
        #expect(FileManager.default.fileExists(atPath: pictures.appendingPathComponent("img3_640x427.png").path))

        // The weights are cached and converted beside the download; a second run works offline.
        let cached = work.appendingPathComponent("cache/zoo-tests/tiny/tiny_mask_rcnn_R_50_FPN.safetensors")
        #expect(FileManager.default.fileExists(atPath: cached.path))
        var offline = environment
        offline["ZOO_OFFLINE"] = "1"
        offline["ZOO_MIRROR"] = "file:///nonexistent/"
        let second = try TestSupport.runZoo(args, environment: offline)
        #expect(second.status == 0, "\(second.stderr)")
    }

    @Test func badImageIsOneLineAndNonZeroExitWhileOthersFinish() throws {
        defer { try? FileManager.default.removeItem(at: work) }
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let broken = work.appendingPathComponent("broken.png")
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0]).write(to: broken)
        let out = work.appendingPathComponent("out.jsonl")
        let r = try TestSupport.runZoo(
            ["run", Self.models.appendingPathComponent("tiny_faster_rcnn_R_50_FPN.pkl").path,
             Self.images.appendingPathComponent("img5_tiny_64x48.png").path, broken.path,
             "--config", Self.models.appendingPathComponent("tiny_faster_rcnn_R_50_FPN.yaml").path,
             "--json", out.path, "--quiet"], environment: environment)
        #expect(r.status != 0)
        #expect(r.stderr.contains("broken.png"), "\(r.stderr)")
        let lines = try String(contentsOf: out, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1)
    }

    @Test func missingImageIsOneLineNamingIt() throws {
        defer { try? FileManager.default.removeItem(at: work) }
        let missing = work.appendingPathComponent("nowhere.png").path
        for argument in [missing, work.appendingPathComponent("*.png").path] {
            let r = try TestSupport.runZoo(["run", "tiny-mask", argument], environment: environment)
            #expect(r.status == 1, "\(r.stderr)")
            let lines = r.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines.first?.contains(argument) == true, "\(r.stderr)")
        }
    }

    @Test func weightsFileWithoutConfigIsAClearError() throws {
        defer { try? FileManager.default.removeItem(at: work) }
        let r = try TestSupport.runZoo(["run", Self.models.appendingPathComponent("tiny_faster_rcnn_R_50_FPN.pkl").path,
                                        Self.images.appendingPathComponent("img5_tiny_64x48.png").path])
        #expect(r.status != 0)
        #expect(r.stderr.contains("--config"), "\(r.stderr)")
    }

    @Test func precisionBF16RunsOrIsOneClearError() throws {
        defer { try? FileManager.default.removeItem(at: work) }
        let json = work.appendingPathComponent("out.jsonl")
        let r = try TestSupport.runZoo(["run", "tiny-mask", Self.images.appendingPathComponent("img3_640x427.png").path,
                                        "--config", Self.models.appendingPathComponent("tiny_mask_rcnn_R_50_FPN.yaml").path,
                                        "--precision", "bf16", "--json", json.path], environment: environment)
        if ConvolutionPrecision.bfloat16.isAvailable {
            #expect(r.status == 0, "\(r.stderr)")
            let record = try JSONSerialization.jsonObject(with: Data(contentsOf: json)) as? [String: Any] ?? [:]
            #expect(record["precision"] as? String == "bf16")
            #expect((record["instances"] as? [Any])?.count ?? 0 > 10)
        } else {
            #expect(r.status != 0)
            #expect(r.stderr.contains("AVX512-BF16") && r.stderr.contains("f32"), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: json.path))
        }
    }

    @Test func negativeThresholdIsOutOfRangeNotAMissingValue() throws {
        defer { try? FileManager.default.removeItem(at: work) }
        let image = Self.images.appendingPathComponent("img5_tiny_64x48.png").path
        for option in ["--threshold", "--picture-threshold"] {
            let r = try TestSupport.runZoo(["run", "tiny-mask", image, option, "-1"], environment: environment)
            #expect(r.status != 0)
            #expect(r.stderr.contains("\(option) must be within 0...1"), "\(r.stderr)")
        }
    }

    @Test func badWinogradCacheLimitIsAClearError() throws {
        defer { try? FileManager.default.removeItem(at: work) }
        var env = environment
        env["ZOO_WINOGRAD_CACHE_MB"] = "lots"
        let r = try TestSupport.runZoo(["run", "tiny-mask", Self.images.appendingPathComponent("img5_tiny_64x48.png").path],
                                       environment: env)
        #expect(r.status == 1)
        #expect(r.stderr.contains("ZOO_WINOGRAD_CACHE_MB") && r.stderr.contains("'lots'"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "one line, no usage: \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("cache/winograd").path))
    }

    @Test func winogradCacheOfZeroMegabytesKeepsNoFiles() throws {
        defer { try? FileManager.default.removeItem(at: work) }
        let image = Self.images.appendingPathComponent("img3_640x427.png").path
        func run(_ cacheMB: String?, _ name: String) throws -> Data {
            var env = environment
            env["ZOO_WINOGRAD_CACHE_MB"] = cacheMB
            let out = work.appendingPathComponent(name)
            let r = try TestSupport.runZoo(["run", "tiny-mask", image, "--json", out.path, "--quiet", "--config",
                                            Self.models.appendingPathComponent("tiny_mask_rcnn_R_50_FPN.yaml").path],
                                           environment: env)
            #expect(r.status == 0, "\(r.stderr)")
            return try Data(contentsOf: out)
        }
        let uncached = try run("0", "uncached.jsonl")
        #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("cache/winograd").path))
        let cached = try run(nil, "cached.jsonl")
        let files = try FileManager.default.contentsOfDirectory(atPath: work.appendingPathComponent("cache/winograd").path)
        #expect(files.contains { $0.hasSuffix(".wino") }, "the default keeps files: \(files)")
        // The same weights either way, so the same answers (the records differ only in their timings).
        func instances(_ line: Data) throws -> NSArray? {
            (try JSONSerialization.jsonObject(with: line) as? [String: Any])?["instances"] as? NSArray
        }
        let a = try instances(uncached), b = try instances(cached)
        #expect((a?.count ?? 0) > 10)
        let same = a == b
        #expect(same)

        // A later run with the cache off neither uses, changes, touches nor removes the files there.
        let folder = work.appendingPathComponent("cache/winograd")
        func snapshot() throws -> [String: (Data, Date?)] {
            var files: [String: (Data, Date?)] = [:]
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
                let url = folder.appendingPathComponent(name)
                files[name] = (try Data(contentsOf: url), try url.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate)
            }
            return files
        }
        let before = try snapshot()
        Thread.sleep(forTimeInterval: 0.05)
        let again = try run("0", "uncached-again.jsonl")
        let after = try snapshot()
        let unchanged = before.count == after.count && before.allSatisfy { name, file in
            after[name].map { $0.0 == file.0 && $0.1 == file.1 } ?? false
        }
        #expect(unchanged, "files before \(before.keys.sorted()), after \(after.keys.sorted())")
        let sameAgain = try instances(again) == a
        #expect(sameAgain)
    }

    @Test func unsavableWinogradWeightsAreAWarningNotAFailure() throws {
        defer { try? FileManager.default.removeItem(at: work) }
        let blocker = work.appendingPathComponent("cache/winograd")
        try FileManager.default.createDirectory(at: blocker.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data([1]).write(to: blocker)
        let out = work.appendingPathComponent("out.jsonl")
        let r = try TestSupport.runZoo(
            ["run", Self.models.appendingPathComponent("tiny_faster_rcnn_R_50_FPN.pkl").path,
             Self.images.appendingPathComponent("img3_640x427.png").path,
             "--config", Self.models.appendingPathComponent("tiny_faster_rcnn_R_50_FPN.yaml").path,
             "--json", out.path], environment: environment)
        #expect(r.status == 0, "\(r.stderr)")
        let warnings = r.stderr.split(separator: "\n").filter { $0.contains("not saved to the cache") }
        #expect(warnings.count == 1, "\(r.stderr)")
        #expect(warnings.first?.contains(blocker.path) == true, "\(r.stderr)")
        #expect(try String(contentsOf: out, encoding: .utf8).split(separator: "\n").count == 1)
    }

    @Test func weightsThatDoNotFitTheConfigNameTheWeightsFile() throws {
        defer { try? FileManager.default.removeItem(at: work) }
        // Faster R-CNN weights with the Mask R-CNN config: the mask head's weights are missing.
        let weights = Self.models.appendingPathComponent("tiny_faster_rcnn_R_50_FPN.pkl")
        let r = try TestSupport.runZoo(["run", weights.path, Self.images.appendingPathComponent("img5_tiny_64x48.png").path,
                                        "--config", Self.models.appendingPathComponent("tiny_mask_rcnn_R_50_FPN.yaml").path],
                                       environment: environment)
        #expect(r.status != 0)
        let lines = r.stderr.split(separator: "\n").filter { $0.contains("mask_head") }
        #expect(lines.count == 1, "\(r.stderr)")
        #expect(lines.first?.contains(weights.path) == true && lines.first?.contains("missing") == true, "\(r.stderr)")
    }

    @Test func outputsThatWouldDestroyInputsAreRefusedBeforeRunning() throws {
        defer { try? FileManager.default.removeItem(at: work) }
        let folder = work.appendingPathComponent("photos")
        for sub in ["a", "b"] {
            try FileManager.default.createDirectory(at: folder.appendingPathComponent(sub), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: Self.images.appendingPathComponent("img5_tiny_64x48.png"),
                                             to: folder.appendingPathComponent("\(sub)/x.png"))
        }
        let original = try Data(contentsOf: folder.appendingPathComponent("a/x.png"))
        let model = [Self.models.appendingPathComponent("tiny_faster_rcnn_R_50_FPN.pkl").path,
                     "--config", Self.models.appendingPathComponent("tiny_faster_rcnn_R_50_FPN.yaml").path]
        let a = folder.appendingPathComponent("a/x.png").path, b = folder.appendingPathComponent("b/x.png").path
        let cases: [(args: [String], says: String)] = [
            (["run"] + model + [a, "--json", a], "--json would write over the input image"),
            (["run"] + model + [a, "--output", folder.appendingPathComponent("a").path], "would replace the input image"),
            (["run"] + model + [a, b, "--output", work.appendingPathComponent("pictures").path], "would both be drawn there"),
        ]
        for (args, says) in cases {
            let r = try TestSupport.runZoo(args, environment: environment)
            #expect(r.status != 0)
            #expect(r.stderr.contains(says), "\(r.stderr)")
            #expect(!r.stderr.contains("loaded"), "refused only after loading the model: \(r.stderr)")
            #expect(try Data(contentsOf: folder.appendingPathComponent("a/x.png")) == original)
        }
        #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("pictures/x.png").path))
    }
}
