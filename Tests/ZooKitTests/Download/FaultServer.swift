import Foundation
import ZooKit

/// The loopback HTTP server with faults (Tests/Tools/fault_server.py, python3 standard library),
/// started once per test process; it exits when this process does (its stdin closes).
final class FaultServer: @unchecked Sendable {
    /// One request the server saw.
    struct Request: Decodable {
        var path: String
        var range: String?
        var status: Int
        var sent: Int
    }

    /// The server for the whole test process. A static is never deinitialized, so its folder is
    /// removed by an exit handler instead.
    static let shared: FaultServer? = {
        guard let server = try? FaultServer() else { return nil }
        atexit {
            if let root = FaultServer.shared?.root { try? FileManager.default.removeItem(at: root) }
        }
        return server
    }()

    let port: Int
    let root: URL
    private let process: Process
    private let stdin: Pipe

    /// Serves files from a fresh temporary folder (removed again if the server does not start).
    init() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-fault-server-\(getpid())-\(UUID().uuidString)")
        root = folder
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var started = false
        defer { if !started { try? FileManager.default.removeItem(at: folder) } }
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", TestSupport.packageRoot.appendingPathComponent("Tests/Tools/fault_server.py").path, root.path]
        stdin = Pipe()
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
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "fault server did not print its port"])
        }
        self.port = port
        started = true
    }

    /// The base URL for a mode: `http://127.0.0.1:PORT/<mode>/`.
    func base(_ mode: String) -> String { "http://127.0.0.1:\(port)/\(mode)/" }

    /// Places `data` as `name` in the served folder. Written atomically: tests run in parallel, and
    /// one that found the file present while another's write was still under way was served a
    /// truncated file (a checksum mismatch seen once in a clean-clone run on a loaded machine).
    func serve(_ data: Data, as name: String) throws {
        let file = root.appendingPathComponent(name)
        if !FileManager.default.fileExists(atPath: file.path) { try data.write(to: file, options: .atomic) }
    }

    /// Every request so far whose path contains `fragment`.
    func requests(containing fragment: String) throws -> [Request] {
        // The server appends each request to this file before sending the body.
        guard let data = try? Data(contentsOf: root.appendingPathComponent("_requests.jsonl")) else { return [] }
        return try data.split(separator: UInt8(ascii: "\n")).map { try JSONDecoder().decode(Request.self, from: Data($0)) }
            .filter { $0.path.contains(fragment) }
    }
}

/// A test checkpoint whose name carries a valid md5 prefix, made the way the issue says: random bytes
/// plus an 8-byte tail searched (from a copied md5 state) until the md5 starts with the prefix.
enum TestCheckpoint {
    static let prefix = "c0ffee"
    static let name = "model_final_\(prefix).pkl"

    /// 3 MB of random bytes + the found tail (computed once per test process, a few seconds).
    static let data: Data = {
        var body = Data(count: 3_000_000)
        body.withUnsafeMutableBytes { raw in
            var rng = SystemRandomNumberGenerator()
            for i in stride(from: 0, to: raw.count - 7, by: 8) { raw.storeBytes(of: rng.next() as UInt64, toByteOffset: i, as: UInt64.self) }
        }
        guard let tail = try? searchTail(body: body, prefix: prefix) else { return Data() }
        return body + tail
    }()

    /// Searches the 8-byte tail that makes md5(body + tail) start with the 6-hex `prefix`.
    static func searchTail(body: Data, prefix: String) throws -> Data? {
        let want = stride(from: 0, to: 6, by: 2).map { i -> UInt8 in
            let s = prefix.index(prefix.startIndex, offsetBy: i)
            return UInt8(prefix[s..<prefix.index(s, offsetBy: 2)], radix: 16) ?? 0
        }
        let base = try StreamingDigest(.md5)
        base.update(body)
        let work = try StreamingDigest(copying: base)
        let out = UnsafeMutablePointer<UInt8>.allocate(capacity: 64)
        defer { out.deallocate() }
        var counter: UInt64 = 0
        while counter < 1 << 30 {
            work.assign(from: base)
            withUnsafeBytes(of: counter) { work.update($0) }
            work.finalize(into: out)
            if out[0] == want[0], out[1] == want[1], out[2] == want[2] {
                return withUnsafeBytes(of: counter) { Data($0) }
            }
            counter += 1
        }
        return nil
    }
}
