import Foundation
import ZooKit

/// `zoo-bench head-rows [--model keypoint|mask] [--rows 100,37,...] [--unpadded] [--keep-head-weights]`:
/// the full-size keypoint (or mask) head (its `forward`), deterministic random weights, run on
/// pooled features of each row count in turn, as a batch of images with different numbers of
/// detections feeds it. oneDNN picks the Winograd weights' layout from the row count, so a new row
/// count can mean a new, sometimes slower layout; the heads pad each batch to the layout of 100
/// rows instead (`--unpadded`: they do not). The heads transform their Winograd weights at each
/// run; with `--keep-head-weights` they keep them, so a new layout also means weights transformed
/// again, written to the Winograd cache and held beside the first. Prints, per call, the seconds,
/// the Winograd cache files written so far, and the resident memory.
enum HeadRowsBenchmark {
    /// The row counts fed by default: detections per image as a batch of real images gives them.
    static let defaultRows = [100, 37, 20, 64, 5, 100, 41, 1, 88, 12, 73, 100]

    static func run(_ arguments: [String]) throws {
        var model = "keypoint"
        var rows = defaultRows
        var layoutRows: Int? = 100
        var keepWeights = false
        var it = arguments.makeIterator()
        while let a = it.next() {
            switch a {
            case "--model": model = it.next() ?? model
            case "--rows": rows = (it.next() ?? "").split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
            case "--unpadded": layoutRows = nil
            case "--keep-head-weights": keepWeights = true
            default: throw EngineBenchmark.BenchError("unknown option \(a); use --model keypoint|mask --rows N,N,... --unpadded --keep-head-weights")
            }
        }
        guard model == "keypoint" || model == "mask", !rows.isEmpty else {
            throw EngineBenchmark.BenchError("head-rows takes --model keypoint|mask and --rows N,N,... (positive)")
        }
        var g = WeightGenerator(seed: 42)
        let state = g.r50fpn(model: model)
        let convs: [Conv2d]
        let forward: (Tensor) throws -> Tensor
        if model == "keypoint" {
            let head = try KRCNNConvDeconvUpsampleHead(state, inChannels: 256, numKeypoints: 17, algorithm: .winograd,
                                                    detectionsPerImage: layoutRows)
            (convs, forward) = (head.convs, head.forward)
        } else {
            let head = try MaskRCNNConvUpsampleHead(state, inChannels: 256, numClasses: 80, algorithm: .winograd,
                                                 detectionsPerImage: layoutRows)
            (convs, forward) = (head.convs, head.forward)
        }
        let cacheDir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-bench-rows-\(getpid())")
        defer { try? FileManager.default.removeItem(at: cacheDir) }
        let cache = WinogradWeightCache(directory: cacheDir)
        for conv in convs {
            conv.winogradCache = cache
            if keepWeights { conv.winogradWeightsPerRun = false }
        }
        var rng = BenchRandom(seed: 5)
        let pool = rng.tensor([rows.max() ?? 1, 256, 14, 14]).scalars.map { max($0, 0) }
        print("zoo-bench head-rows: \(model) head (\(convs.count) 3x3 convolutions, Winograd) on [N, 256, 14, 14] pooled features, \(layoutRows == nil ? "unpadded" : "padded to the layouts of 100 rows"), Winograd weights \(keepWeights ? "kept" : "made at each run")")
        print("")
        print("| call | rows | s | Winograd files written | RSS MB |")
        print("|---|---|---|---|---|")
        var total = 0.0
        for (i, n) in rows.enumerated() {
            let input = Tensor(shape: [n, 256, 14, 14], scalars: Array(pool[0..<(n * 256 * 196)]))
            let start = Date()
            _ = try forward(input)
            let seconds = Date().timeIntervalSince(start)
            total += seconds
            print(String(format: "| %d | %d | %.3f | %d | %.0f |", i + 1, n, seconds, cache.writes, EngineBenchmark.statusMB("VmRSS:") ?? 0))
        }
        cache.waitForPendingWrites()
        let files = (try? FileManager.default.contentsOfDirectory(atPath: cacheDir.path).filter { $0.hasSuffix(".wino") }.count) ?? 0
        print("")
        print(String(format: "total %.3f s; peak RSS %.0f MB; %d Winograd files in the cache", total, EngineBenchmark.peakRSSMB(), files))
    }
}
