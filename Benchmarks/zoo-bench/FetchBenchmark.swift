import Foundation
import ZooKit

/// `zoo-bench fetch [--size-mb N] [--rounds R]`: zoo's download throughput, md5 + sha256 computed
/// while streaming and fsync'd, against `curl -o` of the same file from the same loopback server
/// (Tests/Tools/fault_server.py, sendfile), as a ratio from one run.
enum FetchBenchmark {
    static func run(_ arguments: [String]) throws {
        var sizeMB = 1024, rounds = 2
        var it = arguments.makeIterator()
        while let a = it.next() {
            switch a {
            case "--size-mb": sizeMB = it.next().flatMap(Int.init) ?? sizeMB
            case "--rounds": rounds = it.next().flatMap(Int.init) ?? rounds
            default: throw BenchError("unknown option \(a); usage: zoo-bench fetch [--size-mb N] [--rounds R]")
            }
        }
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-bench-fetch-\(getpid())")
        let served = work.appendingPathComponent("served")
        try FileManager.default.createDirectory(at: served, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }

        // The served file: random 1 MiB blocks; named after its md5 prefix so zoo verifies it.
        let raw = work.appendingPathComponent("raw.bin")
        try writeRandomFile(raw, megabytes: sizeMB)
        let prefix = String(try md5Hex(of: raw).prefix(6))
        let name = "model_final_\(prefix).pkl"
        try FileManager.default.moveItem(at: raw, to: served.appendingPathComponent(name))
        let bytes = Double(sizeMB) * 1_048_576

        let server = try LoopbackServer(root: served)
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.port)/ok/detectron2/bench/\(name)"

        var curlTimes: [Double] = [], zooTimes: [Double] = []
        var curlCPU: [Double] = [], zooCPU: [Double] = []
        for round in 1...rounds {
            let curlOut = work.appendingPathComponent("curl-\(round).bin")
            let childrenBefore = cpuSeconds(RUSAGE_CHILDREN)
            curlTimes.append(try timed {
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
                p.arguments = ["-s", "-f", "-o", curlOut.path, url]
                try p.run()
                p.waitUntilExit()
                guard p.terminationStatus == 0 else { throw BenchError("curl exited with \(p.terminationStatus)") }
            })
            curlCPU.append(cpuSeconds(RUSAGE_CHILDREN) - childrenBefore)
            try FileManager.default.removeItem(at: curlOut)

            let zooOut = work.appendingPathComponent("zoo-\(round)/\(name)")
            var options = FetchOptions(environment: ["HOME": work.path])
            options.cache = ModelCache(root: work.appendingPathComponent("cache-\(round)"))
            let selfBefore = cpuSeconds(RUSAGE_SELF)
            zooTimes.append(try timed {
                _ = try Downloader.download(url: url, to: zooOut, md5Prefix: prefix, options: options)
            })
            zooCPU.append(cpuSeconds(RUSAGE_SELF) - selfBefore)
            try FileManager.default.removeItem(at: zooOut.deletingLastPathComponent())
        }
        let curlBest = curlTimes.min() ?? 0, zooBest = zooTimes.min() ?? 0
        print("zoo-bench fetch: \(sizeMB) MiB from a loopback server, best of \(rounds)")
        print("tool                         seconds     MB/s  CPU s (min)")
        print(row("curl -o", curlBest, bytes) + String(format: "  %10.2f", curlCPU.min() ?? 0))
        print(row("zoo (md5+sha256, fsync)", zooBest, bytes) + String(format: "  %10.2f", zooCPU.min() ?? 0))
        print(String(format: "zoo / curl throughput ratio: %.2f", curlBest / zooBest))
    }

    static func row(_ name: String, _ seconds: Double, _ bytes: Double) -> String {
        name.padding(toLength: 26, withPad: " ", startingAt: 0) + String(format: "%9.2f %8.0f", seconds, bytes / seconds / 1e6)
    }

    /// User + system CPU seconds of this process (RUSAGE_SELF) or its reaped children (RUSAGE_CHILDREN).
    static func cpuSeconds(_ who: __rusage_who) -> Double {
        var usage = rusage()
        getrusage(who.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    static func timed(_ body: () throws -> Void) throws -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    static func writeRandomFile(_ url: URL, megabytes: Int) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else { throw BenchError("cannot create \(url.path)") }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        // xorshift64*: getrandom() per word would dominate the benchmark's set-up.
        var state = UInt64.random(in: 1...UInt64.max)
        var block = [UInt64](repeating: 0, count: 131_072)
        for _ in 0..<megabytes {
            for i in block.indices {
                state ^= state >> 12; state ^= state << 25; state ^= state >> 27
                block[i] = state &* 0x2545F4914F6CDD1D
            }
            try handle.write(contentsOf: block.withUnsafeBytes { Data($0) })
        }
    }
}

/// Tests/Tools/fault_server.py, run for the benchmark's duration.
final class LoopbackServer {
    let port: Int
    private let process = Process()
    private let stdin = Pipe()

    init(root: URL) throws {
        var script = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { script.deleteLastPathComponent() }
        script.appendPathComponent("Tests/Tools/fault_server.py")
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, root.path]
        let out = Pipe()
        process.standardInput = stdin
        process.standardOutput = out
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty { break }
            line.append(byte)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw BenchError("the loopback server did not start (\(script.path))")
        }
        self.port = port
    }

    func stop() {
        try? stdin.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
