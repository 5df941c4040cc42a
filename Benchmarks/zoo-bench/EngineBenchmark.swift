import Foundation
import ZooKit

/// `zoo-bench engine [--runs N] [--warmup N] [--model faster|mask|keypoint|all] [--direct]`:
/// the dense networks of the full-size R50-FPN Faster/Mask/Keypoint R-CNN (zoo ids 137781054,
/// 137781281, 137781195) with deterministic random weights on an 800x1067 input (padded to
/// 800x1088), per stage; plus one 256->256 3x3 convolution at 200x336 as the machine's ceiling.
///
/// Stages timed: backbone+FPN, RPN head (all levels), box head + predictor on 1000 proposals,
/// mask head on 100 detections (14x14 pooled), keypoint head on 100 detections. ROI pooling,
/// proposal selection and postprocessing are not in this benchmark (they are not dense ops).
enum EngineBenchmark {
    struct Options {
        var runs = 7
        var warmup = 2
        var models = ["faster", "mask", "keypoint"]
        var algorithm = ConvolutionAlgorithm.winograd
    }

    static func run(_ arguments: [String]) throws {
        var o = Options()
        var it = arguments.makeIterator()
        while let a = it.next() {
            switch a {
            case "--runs": o.runs = Int(it.next() ?? "") ?? o.runs
            case "--warmup": o.warmup = Int(it.next() ?? "") ?? o.warmup
            case "--model": let m = it.next() ?? "all"; o.models = m == "all" ? o.models : [m]
            case "--direct": o.algorithm = .direct
            default: throw BenchError("unknown option \(a); use --runs N --warmup N --model faster|mask|keypoint|all --direct")
            }
        }
        let threads = ProcessInfo.processInfo.environment["OMP_NUM_THREADS"] ?? "\(ProcessInfo.processInfo.activeProcessorCount)"
        print("zoo-bench engine: threads \(threads), runs \(o.runs) (after \(o.warmup) warm-up), convolutions \(o.algorithm)")
        let ceiling = try measureCeiling(o)
        print(String(format: "ceiling: 3x3 conv 256->256 at 200x336: direct %.1f GFLOP/s, winograd %.1f GFLOP/s (%@)",
                     ceiling.direct, ceiling.winograd, ceiling.winogradImpl))
        let best = max(ceiling.direct, o.algorithm == .winograd ? ceiling.winograd : 0)
        print("")
        print("| model | start-up s | backbone+FPN | RPN head | box head | mask/kp head | total median (min-max) s | GFLOP | GFLOP/s | % ceiling | peak RSS MB |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for m in o.models { try benchModel(m, o, ceiling: best) }
    }

    struct BenchError: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    // MARK: ceiling

    static func measureCeiling(_ o: Options) throws -> (direct: Double, winograd: Double, winogradImpl: String) {
        var rng = BenchRandom(seed: 1)
        let w = rng.tensor([256, 256, 3, 3], scale: 0.02)
        let x = Tensor(shape: [1, 256, 200, 336], scalars: rng.tensor([1, 256, 200, 336]).scalars.map { max($0, 0) })
        let flops = 2.0 * 256 * 256 * 9 * 200 * 336
        var out: [Double] = []
        var impl = ""
        for alg in [ConvolutionAlgorithm.direct, .winograd] {
            let conv = Conv2d(weight: w, bias: nil, padding: 1, algorithm: alg)
            impl = try conv.implementation(for: x.shape)
            let t = try timeRuns(o) { _ = try conv.forward(x) }
            out.append(flops / median(t) / 1e9)
        }
        return (out[0], out[1], impl)
    }

    // MARK: models

    static func benchModel(_ model: String, _ o: Options, ceiling: Double) throws {
        var g = WeightGenerator(seed: 42)
        let sd = g.r50fpn(model: model)
        // Start-up: building the modules (FrozenBN folding) and the first forward of every shape
        // (primitive creation, weight reorders); generating the random weights is not counted.
        let start = Date()
        let backbone = try ResNetFPN(sd, algorithm: o.algorithm)
        let rpn = try StandardRPNHead(sd, inChannels: 256, algorithm: o.algorithm)
        let boxHead = try FastRCNNConvFCHead(sd, inputShape: [256, 7, 7])
        let predictor = try FastRCNNOutputLayers(sd, inputSize: 1024, numClasses: model == "keypoint" ? 1 : 80)
        let maskHead = model == "mask" ? try MaskRCNNConvUpsampleHead(sd, inChannels: 256, numClasses: 80, algorithm: o.algorithm) : nil
        let kpHead = model == "keypoint" ? try KRCNNConvDeconvUpsampleHead(sd, inChannels: 256, numKeypoints: 17, algorithm: o.algorithm) : nil
        var rng = BenchRandom(seed: 7)
        let image = rng.tensor([1, 3, 800, 1088], scale: 100)
        let pooledBox = rng.tensor([1000, 256, 7, 7])
        let pooled14 = rng.tensor([100, 256, 14, 14])
        // Primitives are created on the first forward of each shape: count that as start-up.
        let feats = try backbone.forward(image)
        let levels = ["p2", "p3", "p4", "p5", "p6"].compactMap { feats[$0] }
        _ = try rpn.forward(levels)
        _ = try predictor.forward(try boxHead.forward(pooledBox))
        _ = try maskHead?.forward(pooled14)
        _ = try kpHead?.forward(pooled14)
        let startup = Date().timeIntervalSince(start)

        var stage: [[Double]] = [[], [], [], []]
        var totals: [Double] = []
        for run in 0..<(o.warmup + o.runs) {
            var t = [Double](repeating: 0, count: 4)
            var t0 = Date()
            let f = try backbone.forward(image)
            t[0] = lap(&t0)
            _ = try rpn.forward(["p2", "p3", "p4", "p5", "p6"].compactMap { f[$0] })
            t[1] = lap(&t0)
            _ = try predictor.forward(try boxHead.forward(pooledBox))
            t[2] = lap(&t0)
            _ = try maskHead?.forward(pooled14)
            _ = try kpHead?.forward(pooled14)
            t[3] = lap(&t0)
            if run >= o.warmup {
                for i in 0..<4 { stage[i].append(t[i]) }
                totals.append(t.reduce(0, +))
            }
        }
        let gflop = Flops.model(backbone: backbone, rpn: rpn, boxHead: boxHead, predictor: predictor,
                                mask: maskHead, keypoint: kpHead, image: image.shape) / 1e9
        let med = median(totals)
        let achieved = gflop / med
        let cells = stage.map { String(format: "%.3f", median($0)) }
        print(String(format: "| %@ | %.2f | %@ | %@ | %@ | %@ | %.3f (%.3f-%.3f) | %.0f | %.1f | %.0f%% | %.0f |",
                     model, startup, cells[0], cells[1], cells[2], model == "faster" ? "-" : cells[3],
                     med, totals.min() ?? 0, totals.max() ?? 0, gflop, achieved, 100 * achieved / ceiling, peakRSSMB()))
    }

    // MARK: helpers

    static func lap(_ t: inout Date) -> Double {
        let now = Date()
        defer { t = now }
        return now.timeIntervalSince(t)
    }

    static func timeRuns(_ o: Options, _ body: () throws -> Void) rethrows -> [Double] {
        var times: [Double] = []
        for i in 0..<(o.warmup + o.runs) {
            let t = Date()
            try body()
            if i >= o.warmup { times.append(Date().timeIntervalSince(t)) }
        }
        return times
    }

    static func median(_ v: [Double]) -> Double {
        let s = v.sorted()
        guard !s.isEmpty else { return 0 }
        return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
    }

    static func peakRSSMB() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024  // Linux reports KiB
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
