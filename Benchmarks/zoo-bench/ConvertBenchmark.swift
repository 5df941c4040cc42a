import Foundation
import ZooKit
#if canImport(Glibc)
import Glibc
#endif

/// `zoo-bench convert [--dir DIR] [--keep] [--no-python] [--runs N]`: converts a full-size
/// checkpoint (R50-FPN Mask R-CNN shapes, ~44M float32 parameters, random values, written here
/// as a protocol 3 pickle of numpy arrays exactly as the zoo files are) with `zoo convert` and
/// with Python's `pickle.load` + `safetensors.numpy.save_file`, each in a child process, and
/// prints wall time, throughput and peak resident memory. The two outputs are compared tensor
/// by tensor.
enum ConvertBenchmark {
    static func run(_ arguments: [String]) throws {
        var directory = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-bench-convert")
        var keep = false, python = true, runs = 3
        var rest = arguments[...]
        while let argument = rest.popFirst() {
            switch argument {
            case "--dir": if let value = rest.popFirst() { directory = URL(fileURLWithPath: value) }
            case "--keep": keep = true
            case "--no-python": python = false
            case "--runs": runs = rest.popFirst().flatMap(Int.init) ?? runs
            default:
                print("usage: zoo-bench convert [--dir DIR] [--keep] [--no-python] [--runs N]")
                return
            }
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { if !keep { try? FileManager.default.removeItem(at: directory) } }
        let source = directory.appendingPathComponent("model_final_r50fpn_bench.pkl")
        let start = Date()
        let parameters = try FullSizePickle.write(to: source)
        let fileSize = try fileBytes(source)
        fflush(stdout)
        print(String(format: "wrote %@: %d parameters, %.1f MB pickle in %.2f s",
                     source.lastPathComponent, parameters, Double(fileSize) / 1e6, Date().timeIntervalSince(start)))

        let zooBinary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("zoo")
        let zooOut = directory.appendingPathComponent("zoo.safetensors")
        let pyOut = directory.appendingPathComponent("python.safetensors")
        var rows: [(String, ChildResult)] = []
        fflush(stdout)
        let digest = "0000000000000000000000000000000000000000000000000000000000000000"
        for _ in 0..<runs {
            rows.append(("zoo convert (hashes the source)", try spawn(zooBinary.path, ["convert", "-q", source.path, "-o", zooOut.path])))
            rows.append(("zoo convert --source-sha256 (known digest)", try spawn(zooBinary.path, ["convert", "-q", "--source-sha256", digest, source.path, "-o", zooOut.path])))
        }
        if python {
            let script = """
                import pickle, sys
                from safetensors.numpy import save_file
                with open(sys.argv[1], "rb") as f:
                    data = pickle.load(f, encoding="latin1")
                save_file(data["model"], sys.argv[2])
                """
            let probe = try spawn("/usr/bin/env", ["python3", "-c", "import numpy, safetensors"])
            if probe.status == 0 {
                for _ in 0..<runs {
                    rows.append(("python pickle+safetensors", try spawn("/usr/bin/env", ["python3", "-c", script, source.path, pyOut.path])))
                }
                let startup = try spawn("/usr/bin/env", ["python3", "-c", "import pickle, numpy, safetensors.numpy"])
                rows.append(("python startup+imports only", startup))
            } else {
                print("python3 with numpy and safetensors not found (pip install safetensors); Python side skipped")
            }
        }
        print("")
        print("Throughput is pickle bytes / time. The machine may be shared: CPU s (user + sys of the child) is the")
        print("steadier figure; wall s includes process start (and for Python, importing numpy).")
        print("")
        print("| tool | run | wall s | GB/s wall | CPU s | GB/s per CPU s | peak RSS MB | peak RSS / file |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        var counts: [String: Int] = [:]
        for (name, result) in rows {
            counts[name, default: 0] += 1
            guard result.status == 0 else {
                print("| \(name) | \(counts[name] ?? 0) | failed (exit \(result.status)) | | | | | |")
                continue
            }
            print(String(format: "| %@ | %d | %.3f | %.2f | %.3f | %.2f | %.0f | %.2f |", name, counts[name] ?? 0, result.seconds,
                         Double(fileSize) / result.seconds / 1e9, result.cpuSeconds, Double(fileSize) / result.cpuSeconds / 1e9,
                         Double(result.maxRSSKiB) / 1024, Double(result.maxRSSKiB) * 1024 / Double(fileSize)))
        }
        if python, FileManager.default.fileExists(atPath: pyOut.path) {
            let a = try SafetensorsFile(contentsOf: zooOut), b = try SafetensorsFile(contentsOf: pyOut)
            var equal = Set(a.names) == Set(b.names)
            for name in a.names where equal {
                let x = try a.array(name), y = try b.array(name)
                equal = x.dtype == y.dtype && x.shape == y.shape && x.bytes == y.bytes
            }
            print("")
            print("outputs identical tensor by tensor: \(equal ? "yes" : "NO") (\(a.names.count) tensors)")
        }
    }

    struct ChildResult {
        var status: Int32
        var seconds: Double
        var cpuSeconds: Double
        var maxRSSKiB: Int
    }

    /// Runs `path arguments` with stdout/stderr inherited and returns its exit status, wall
    /// time and peak RSS (`wait4`'s `ru_maxrss`, this child only).
    static func spawn(_ path: String, _ arguments: [String]) throws -> ChildResult {
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let start = DispatchTime.now()
        let error = posix_spawn(&pid, path, nil, nil, argv, environ)
        guard error == 0 else {
            throw CocoaError(.executableLoad, userInfo: [NSLocalizedDescriptionKey: "posix_spawn \(path): \(String(cString: strerror(error)))"])
        }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        let exited = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
        return ChildResult(status: exited, seconds: seconds, cpuSeconds: cpu, maxRSSKiB: Int(usage.ru_maxrss))
    }

    static func fileBytes(_ url: URL) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue ?? 0
    }
}
