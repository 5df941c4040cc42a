import Foundation

/// Paths shared by every test: the repository root, the copied fixtures, the built `zoo` binary.
enum TestSupport {
    /// The package root (the folder holding Package.swift).
    static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        // Tests/ZooKitTests/Support/TestSupport.swift -> root
        for _ in 0..<4 { url.deleteLastPathComponent() }
        return url
    }()

    /// `Tests/Fixtures`, the copy of ../shared/fixtures the tests use.
    static let fixtures: URL = packageRoot.appendingPathComponent("Tests/Fixtures")

    /// The `zoo` executable built next to the test bundle (release or debug, whichever `swift test` built).
    static var zooBinary: URL? {
        var candidates: [URL] = []
        if let env = ProcessInfo.processInfo.environment["ZOO_BIN"] { candidates.append(URL(fileURLWithPath: env)) }
        let bundleDir = Bundle.main.bundleURL
        candidates.append(bundleDir.appendingPathComponent("zoo"))
        candidates.append(bundleDir.deletingLastPathComponent().appendingPathComponent("zoo"))
        for config in ["release", "debug"] {
            candidates.append(packageRoot.appendingPathComponent(".build/\(config)/zoo"))
        }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Runs the built `zoo` with `arguments`; returns exit status, stdout and stderr.
    static func runZoo(_ arguments: [String], environment: [String: String] = [:], stdin: Data? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
        guard let binary = zooBinary else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "zoo binary not found; build it with swift build first"])
        }
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        if let stdin {
            let input = Pipe()
            process.standardInput = input
            try process.run()
            input.fileHandleForWriting.write(stdin)
            try input.fileHandleForWriting.close()
        } else {
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }
        // Read both pipes concurrently so a chatty child cannot block.
        final class Box: @unchecked Sendable { var data = Data() }
        let outBox = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { outBox.data = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outBox.data, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }
}
