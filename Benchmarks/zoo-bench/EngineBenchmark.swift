import Foundation
import ZooKit

/// `zoo-bench engine [--runs N] [--warmup N] [--model faster|mask|keypoint|all] [--winograd|--direct]
/// [--precision f32|bf16] [--layers] [--no-winograd-cache] [--keep-head-weights]`:
/// `GeneralizedRCNN.predict` end to end for the full-size R50-FPN Faster/Mask/Keypoint R-CNN, built
/// from the index entries' inference settings (zoo ids 137781054, 137781281, 137781195) with
/// deterministic random weights, `SCORE_THRESH_TEST` 0 so 100 detections reach the mask/keypoint
/// head, on a fixed synthetic 640x480 image (resized to 800x1067, padded to 800x1088); plus one
/// 256->256 3x3 convolution at 200x336 on `nChw16c` input as the machine's ceiling, measured
/// before and after each model. Start-up (loading the weights from a safetensors file, the model's
/// build, plus `PrimitiveSetupClock`: primitives created and weights prepared) and the first image's extra time are reported cold (empty
/// Winograd weight cache, a temporary folder) and cached (a second model from the same weights;
/// with `--no-winograd-cache` both transform the weights in memory); `--layers` prints the slowest
/// layers (`LayerProfile`); `--keep-head-weights` makes the mask and keypoint heads keep their
/// Winograd weights (transformed once, cached) instead of transforming them at each run.
enum EngineBenchmark {
    struct Options {
        var runs = 7
        var warmup = 2
        var models = ["faster", "mask", "keypoint"]
        var algorithm = ConvolutionAlgorithm.winograd
        var precision = ConvolutionPrecision.float32
        /// Print the slowest layers (LayerProfile) after each model.
        var layers = false
        /// Run without a Winograd weight cache (`ZOO_WINOGRAD_CACHE_MB=0`): every start-up
        /// transforms the weights in memory.
        var winogradCache = true
        /// The mask and keypoint heads keep their Winograd weights (`Conv2d.winogradWeightsPerRun`
        /// off), as zoo did before they were made at each run.
        var keepHeadWeights = false
    }

    static let zooIDs = ["faster": "137781054", "mask": "137781281", "keypoint": "137781195"]

    static func run(_ arguments: [String]) throws {
        var o = Options()
        var it = arguments.makeIterator()
        while let a = it.next() {
            switch a {
            case "--runs": o.runs = max(Int(it.next() ?? "") ?? o.runs, 1)
            case "--warmup": o.warmup = max(Int(it.next() ?? "") ?? o.warmup, 0)
            case "--model":
                let m = it.next() ?? "all"
                guard m == "all" || zooIDs[m] != nil else { throw BenchError("unknown model \(m); use faster, mask, keypoint or all") }
                o.models = m == "all" ? o.models : [m]
            case "--direct": o.algorithm = .direct
            case "--winograd": o.algorithm = .winograd
            case "--layers": o.layers = true
            case "--no-winograd-cache": o.winogradCache = false
            case "--keep-head-weights": o.keepHeadWeights = true
            case "--precision":
                let p = it.next() ?? ""
                guard let precision = ConvolutionPrecision(rawValue: p) else { throw BenchError("unknown precision \(p); use f32 or bf16") }
                try precision.checkAvailable()
                o.precision = precision
            default:
                throw BenchError("unknown option \(a); use --runs N --warmup N --model faster|mask|keypoint|all --winograd|--direct --precision f32|bf16 --layers --no-winograd-cache --keep-head-weights")
            }
        }
        let threads = ProcessInfo.processInfo.environment["OMP_NUM_THREADS"] ?? "\(ProcessInfo.processInfo.activeProcessorCount)"
        print("zoo-bench engine: threads \(threads), runs \(o.runs) (after \(o.warmup) warm-up), convolutions \(o.algorithm), precision \(o.precision.rawValue), Winograd cache \(o.winogradCache ? "on" : "off"), head Winograd weights \(o.keepHeadWeights ? "kept" : "made at each run"), load average \(loadAverage())")
        // The ceiling is measured before and after each model (the machines here are VMs whose speed
        // drifts); each model is compared with the median of the measurements on either side of it.
        var ceilings = [try measureCeiling(o)]
        var results: [ModelResult] = []
        for m in o.models {
            results.append(try benchModel(m, o))
            ceilings.append(try measureCeiling(o))
        }
        let direct = ceilings.flatMap(\.direct), winograd = ceilings.flatMap(\.winograd)
        print(String(format: "ceiling: 3x3 conv 256->256 at 200x336 on nChw16c input, %d runs before and after each model: direct%@ %.1f GFLOP/s (%.1f-%.1f), winograd %.1f GFLOP/s (%.1f-%.1f, %@)",
                     direct.count, o.precision == .bfloat16 ? " (bf16)" : "", median(direct), direct.min() ?? 0, direct.max() ?? 0,
                     median(winograd), winograd.min() ?? 0, winograd.max() ?? 0, ceilings[0].winogradImpl))
        print("")
        print("| model | start-up s: load + build + primitives, cold / cached Winograd weights | cold: Winograd files flushed after the 1st image s | 1st-image extra s, cold / cached | preprocess | backbone+FPN | RPN | box head | mask/kp head | postprocess | total median (min-max) s | proposals / detections | GFLOP (Winograd-able) | GFLOP/s | ceiling GFLOP/s | % ceiling | bound s (% of median) | bound on tiles s (% of median) | peak RSS MB |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for (i, r) in results.enumerated() {
            let around = [ceilings[i], ceilings[i + 1]]
            print(r.row(direct: median(around.flatMap(\.direct)), best: median(around.flatMap { $0.samples(o.algorithm) })))
        }
        print("(load average after: \(loadAverage()))")
        print("")
        print("Bound: the time if every Winograd-able convolution ran at the Winograd ceiling, every other FLOP at the direct one, and nothing else took time. Bound on tiles: the same with each Winograd-able convolution's output rounded up to whole F(4x4, 3x3) tiles, as oneDNN computes it (a 14x14 head region as 16x16; the ceiling's 200x336 is whole tiles).")
        print("Start-up: loading the weights from a safetensors file in the page cache (as a second zoo run does), building the model, plus creating its primitives and preparing their weights (reorders, Winograd transforms or cache reads) during the first image; cold in this process with an empty Winograd cache, cached in a new process (engine-startup) once the cache holds the model's files. The cold process's new Winograd files are flushed to disk and renamed (as zoo run does once writes pause, or before it exits) right after the first image, timed on their own. The first image's extra time over the median also includes first touches of activation and scratch memory.")
        if !o.winogradCache { print("Winograd cache off (--no-winograd-cache): both start-ups transform the weights in memory, and there is nothing to flush.") }
        print("")
        print("First image per stage:")
        print("")
        print("| model | preprocess | backbone+FPN | RPN | box head | mask/kp head | postprocess | total s |")
        print("|---|---|---|---|---|---|---|---|")
        for r in results { print(r.firstRow) }
    }

    /// One model's measurements, printed once the ceiling after it is known.
    struct ModelResult {
        var model: String
        var load: Double, build: Double, setup: Double, firstExtra: Double
        /// Flushing the cold run's new Winograd cache files, timed after the first image.
        var cacheFlush: Double
        var loadCached: Double, buildCached: Double, setupCached: Double, firstExtraCached: Double
        var stages: [String]
        var median: Double, minimum: Double, maximum: Double
        var proposals: Int, detections: Int
        var gflop: Double
        /// The part of `gflop` that Winograd can run (0 with `--direct`).
        var winogradGFLOP: Double
        /// `winogradGFLOP` on whole F(4x4, 3x3) tiles, as oneDNN computes it.
        var winogradTiledGFLOP: Double
        var peakRSS: Double
        var firstRow: String

        /// The row, given the ceiling's median direct and best GFLOP/s around this model. The
        /// bound is the time if every Winograd-able convolution ran at the best ceiling, every
        /// other FLOP at the direct one, and nothing else took time; the tiled bound counts the
        /// Winograd-able convolutions on whole F(4x4, 3x3) tiles.
        func row(direct: Double, best: Double) -> String {
            let achieved = gflop / median
            let rest = (gflop - winogradGFLOP) / direct
            let bound = winogradGFLOP / best + rest, tiledBound = winogradTiledGFLOP / best + rest
            return String(format: "| %@ | %.2f + %.2f + %.2f / %.2f + %.2f + %.2f | %.2f | %.2f / %.2f | %@ | %.3f (%.3f-%.3f) | %d / %d | %.0f (%.0f%%) | %.1f | %.1f | %.0f%% | %.3f (%.0f%%) | %.3f (%.0f%%) | %.0f |",
                          model, load, build, setup, loadCached, buildCached, setupCached, cacheFlush, firstExtra, firstExtraCached,
                          stages.joined(separator: " | "), median, minimum, maximum, proposals, detections, gflop,
                          100 * winogradGFLOP / gflop, achieved, best, 100 * achieved / best, bound, 100 * bound / median,
                          tiledBound, 100 * tiledBound / median, peakRSS)
        }
    }

    struct BenchError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    // MARK: ceiling

    struct Ceiling {
        var direct: [Double], winograd: [Double], winogradImpl: String
        func samples(_ algorithm: ConvolutionAlgorithm) -> [Double] {
            algorithm == .winograd ? zip(direct, winograd).map { max($0, $1) } : direct
        }
    }

    /// GFLOP/s of each run of the ceiling convolution, direct (in `o.precision`) and Winograd, on
    /// `nChw16c` input and output as the models' convolutions run (no reorders timed). Its input (69 MB) is made
    /// anew at each call rather than kept, so it does not count in the next model's peak memory.
    static func measureCeiling(_ o: Options) throws -> Ceiling {
        var rng = BenchRandom(seed: 1)
        let w = rng.tensor([256, 256, 3, 3], scale: 0.02)
        let x = Tensor(shape: [1, 256, 200, 336], scalars: rng.tensor([1, 256, 200, 336]).scalars.map { max($0, 0) })
        let flops = 2.0 * 256 * 256 * 9 * 200 * 336
        let timed = try [ConvolutionAlgorithm.direct, .winograd].map {
            try Conv2d(weight: w, bias: nil, padding: 1, algorithm: $0, precision: o.precision)
                .timeBlocked(x, warmup: o.warmup, runs: o.runs)
        }
        let gflops = timed.map { $0.seconds.map { flops / $0 / 1e9 } }
        return Ceiling(direct: gflops[0], winograd: gflops[1], winogradImpl: timed[1].implementation)
    }

    // MARK: models

    /// A fixed synthetic 640x480 BGR picture: smooth gradients, a few rectangles, mild noise.
    static func syntheticImage() -> Image8 {
        let w = 640, h = 480
        var rng = BenchRandom(seed: 3)
        var pixels = [UInt8](repeating: 0, count: w * h * 3)
        for y in 0..<h {
            for x in 0..<w {
                var v = [Double(x) / Double(w) * 200, Double(y) / Double(h) * 200, Double(x + y) / Double(w + h) * 255]
                if (100..<300).contains(x), (80..<260).contains(y) { v = [30, 160, 220] }
                if (380..<560).contains(x), (200..<420).contains(y) { v = [200, 60, 40] }
                for c in 0..<3 {
                    let noise = Double(rng.next() % 17) - 8
                    pixels[(y * w + x) * 3 + c] = UInt8(max(0, min(255, v[c] + noise)))
                }
            }
        }
        return Image8(width: w, height: h, channelOrder: .bgr, pixels: pixels)
    }

    /// The index entry's inference settings for `model`, with score threshold 0.
    static func benchConfig(_ model: String) throws -> RCNNConfig {
        guard let id = zooIDs[model] else { throw BenchError("unknown model \(model)") }
        let entry = try ZooIndex.load().lookup(id)
        var config = try RCNNConfig.defaults.applying(entry.inference.mapValues(ConfigValue.init(indexValue:)))
        config.model.roiHeads.scoreThreshTest = 0
        return config
    }

    /// Loads `weightsFile` as `zoo run` does and builds the model: the model and the seconds of each step.
    static func buildModel(_ config: RCNNConfig, _ weightsFile: URL, _ o: Options) throws
        -> (net: GeneralizedRCNN, load: Double, build: Double) {
        let start = Date()
        let weights = try Checkpoint.loadWeights(from: weightsFile).tensors
        let loaded = Date()
        let net = try GeneralizedRCNN(config: config, weights: consume weights, algorithm: o.algorithm, precision: o.precision)
        if o.keepHeadWeights {
            for conv in (net.maskHead?.convs ?? []) + (net.keypointHead?.convs ?? []) { conv.winogradWeightsPerRun = false }
        }
        return (net, loaded.timeIntervalSince(start), Date().timeIntervalSince(loaded))
    }

    /// `zoo-bench engine-startup MODEL WEIGHTS CACHE-DIR ALGORITHM PRECISION [keep-head-weights]`, run by `engine` as a
    /// child process: the start-up of a second `zoo run` of a model whose Winograd weights are in
    /// `CACHE-DIR` ("none": no cache, weights transformed in memory), in a fresh process. Prints
    /// `startup LOAD BUILD PRIMITIVES FIRST-IMAGE` seconds, then puts any new files in place.
    static func startupChild(_ arguments: [String]) throws {
        guard arguments.count == 5 || (arguments.count == 6 && arguments[5] == "keep-head-weights"),
              let precision = ConvolutionPrecision(rawValue: arguments[4]) else {
            throw BenchError("engine-startup takes MODEL WEIGHTS CACHE-DIR|none winograd|direct f32|bf16 [keep-head-weights]")
        }
        var o = Options()
        o.keepHeadWeights = arguments.count == 6
        o.algorithm = arguments[3] == "direct" ? .direct : .winograd
        o.precision = precision
        let config = try benchConfig(arguments[0])
        WinogradWeightCache.shared = arguments[2] == "none" ? nil : WinogradWeightCache(directory: URL(fileURLWithPath: arguments[2]))
        PrimitiveSetupClock.shared.reset()
        let (net, load, build) = try buildModel(config, URL(fileURLWithPath: arguments[1]), o)
        let start = Date()
        _ = try net.predict(syntheticImage())
        let first = Date().timeIntervalSince(start)
        print("startup \(load) \(build) \(PrimitiveSetupClock.shared.seconds) \(first)")
        // New files are put in place before exiting, as zoo run does, so that a later run finds them.
        WinogradWeightCache.shared?.waitForPendingWrites()
    }

    /// Runs `startupChild` in a new process of this executable.
    static func startupInChild(_ model: String, weights: URL, cache: String, _ o: Options) throws
        -> (load: Double, build: Double, setup: Double, first: Double) {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        child.arguments = ["engine-startup", model, weights.path, cache, o.algorithm == .direct ? "direct" : "winograd",
                           o.precision.rawValue] + (o.keepHeadWeights ? ["keep-head-weights"] : [])
        let pipe = Pipe()
        child.standardOutput = pipe
        try child.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitUntilExit()
        let fields = output.split(whereSeparator: \.isWhitespace).drop { $0 != "startup" }.dropFirst().compactMap { Double($0) }
        guard child.terminationStatus == 0, fields.count == 4 else {
            throw BenchError("engine-startup for \(model) failed (status \(child.terminationStatus)): \(output)")
        }
        return (fields[0], fields[1], fields[2], fields[3])
    }

    /// Runs one model: start-up, the first image, then the timed runs.
    static func benchModel(_ model: String, _ o: Options) throws -> ModelResult {
        let config = try benchConfig(model)
        let image = syntheticImage()
        // The generated weights are written once as a safetensors file (not timed); each model is
        // then loaded from it and built as `zoo run` does (`Checkpoint.loadWeights`, then the
        // model, which takes the loaded tensors over), the file in the page cache as for a
        // second `zoo run`. The loaded tensors are dropped once the model is built: the peak RSS
        // is the model's own.
        let weightsFile = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-bench-weights-\(getpid())-\(model).safetensors")
        defer { try? FileManager.default.removeItem(at: weightsFile) }
        do {
            var g = WeightGenerator(seed: 42)
            _ = g.r50fpn(model: model)
            try SafetensorsWriter.write(g.tensors.sorted { $0.key < $1.key }.map { ($0.key, CheckpointArray($0.value)) },
                                        metadata: [:], to: weightsFile)
        }

        // Start-up: building the model (weight checks, FrozenBN scales); generating the random
        // weights is not counted. The first run's extra time over the median is primitive creation
        // and weight reorders for the first shapes: "cold" with an empty Winograd weight cache,
        // "cached" for a second model built from the same weights once the cache holds them (what a
        // second `zoo run` of the model sees).
        let cacheDir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-bench-wino-\(getpid())-\(model)")
        defer { try? FileManager.default.removeItem(at: cacheDir) }
        WinogradWeightCache.shared = o.winogradCache ? WinogradWeightCache(directory: cacheDir) : nil
        defer { WinogradWeightCache.shared = nil }
        EngineMemory.releaseCaches()
        resetPeakRSS()
        PrimitiveSetupClock.shared.reset()
        let (net, load, build) = try buildModel(config, weightsFile, o)

        var stages: [[Double]] = Array(repeating: [], count: 7)
        var totals: [Double] = []
        var first = 0.0, setup = 0.0, cacheFlush = 0.0
        var firstRow = ""
        var last: Prediction?
        for run in 0..<(o.warmup + o.runs + 1) {
            let t0 = Date()
            let p = try net.predict(image)
            let wall = Date().timeIntervalSince(t0)
            if run == 0 {
                first = wall
                setup = PrimitiveSetupClock.shared.seconds
                let t = p.times
                let head = model == "faster" ? "-" : String(format: "%.3f", model == "mask" ? t.maskHead : t.keypointHead)
                firstRow = String(format: "| %@ | %.3f | %.3f | %.3f | %.3f | %@ | %.3f | %.3f |", model, t.preprocess,
                                  t.backbone, t.rpn, t.boxHead, head, t.postprocess, wall)
                // The new Winograd files, put in place now rather than in the background during
                // the timed runs.
                let flushStart = Date()
                WinogradWeightCache.shared?.waitForPendingWrites()
                cacheFlush = Date().timeIntervalSince(flushStart)
                continue
            }
            if run == o.warmup, o.layers {
                LayerProfile.shared.reset()
                LayerProfile.shared.enabled = true
            }
            if run > o.warmup {
                let t = p.times
                for (i, v) in [t.preprocess, t.backbone, t.rpn, t.boxHead, t.maskHead, t.keypointHead, t.postprocess].enumerated() {
                    stages[i].append(v)
                }
                totals.append(wall)
            }
            last = p
        }
        let med = median(totals)
        let rss = peakRSSMB()
        if o.layers {
            LayerProfile.shared.enabled = false
            let rows = LayerProfile.shared.report()
            let total = rows.map(\.seconds).reduce(0, +) / Double(o.runs)
            print(String(format: "%@: slowest layers, ms per image (%.0f ms of %.0f ms recorded):", model, total * 1e3, med * 1e3))
            for row in rows.prefix(30) {
                print(String(format: "  %8.1f  %3dx  %@", row.seconds / Double(o.runs) * 1e3, row.calls / o.runs, row.name))
            }
        }
        // The cold model's Winograd files are put in place in the background; the cached
        // measurement is a new process that maps them from disk, as a second `zoo run` does.
        // (Measured in this process it was slower and erratic: the first allocations after the
        // runs fault pages that this VM's free page reporting had handed back to the host.)
        WinogradWeightCache.shared?.waitForPendingWrites()
        let (load2, build2, setupCached, firstCached) = try startupInChild(model, weights: weightsFile,
                                                                           cache: o.winogradCache ? cacheDir.path : "none", o)
        let proposals = last?.numProposals ?? 0, detections = last?.detections.count ?? 0
        let flops = Flops.model(net, image: [1, 3, last?.paddedHeight ?? 800, last?.paddedWidth ?? 1088],
                                proposals: proposals, detections: detections)
        let cells = stages.map { String(format: "%.3f", median($0)) }
        let headCell = model == "faster" ? "-" : (model == "mask" ? cells[4] : cells[5])
        return ModelResult(model: model, load: load, build: build, setup: setup, firstExtra: max(first - med, 0), cacheFlush: cacheFlush,
                           loadCached: load2, buildCached: build2, setupCached: setupCached, firstExtraCached: max(firstCached - med, 0),
                           stages: [cells[0], cells[1], cells[2], cells[3], headCell, cells[6]],
                           median: med, minimum: totals.min() ?? 0, maximum: totals.max() ?? 0,
                           proposals: proposals, detections: detections, gflop: flops.total / 1e9,
                           winogradGFLOP: o.algorithm == .winograd ? flops.winograd / 1e9 : 0,
                           winogradTiledGFLOP: o.algorithm == .winograd ? flops.winogradTiled / 1e9 : 0, peakRSS: rss, firstRow: firstRow)
    }

    static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
    }

    // MARK: helpers

    static func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    /// Peak resident memory since the last `resetPeakRSS` (VmHWM), in MB; the process's
    /// lifetime peak (`getrusage`) where /proc is not readable.
    static func peakRSSMB() -> Double {
        if let mb = statusMB("VmHWM:") { return mb }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024  // Linux reports KiB
    }

    /// The `/proc/self/status` line `field` (in kB there), in MB; nil where it cannot be read.
    static func statusMB(_ field: String) -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
              let kib = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kib / 1024
    }

    /// Starts a new peak-memory window (Linux: writing 5 to /proc/self/clear_refs resets VmHWM),
    /// so each model's peak is its own when several run in one process.
    static func resetPeakRSS() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }
}

/// SplitMix64 random tensors for the benchmark's weights and inputs.
struct BenchRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func tensor(_ shape: [Int], scale: Float = 1) -> Tensor {
        let n = shape.reduce(1, *)
        var v = [Float](repeating: 0, count: n)
        for i in 0..<n { v[i] = (Float(next() >> 40) / Float(1 << 24) * 2 - 1) * scale }
        return Tensor(shape: shape, scalars: v)
    }
}
