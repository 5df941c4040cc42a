import Foundation
import Testing
@testable import ZooKit

/// Config files written for a test, and the `ConfigError` a load throws.
enum ConfigTestFiles {
    /// A fresh folder with `files` (relative path -> text) written into it.
    static func folder(_ files: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-config-\(UUID().uuidString)")
        for (path, text) in files {
            let url = dir.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return dir
    }

    /// The `ConfigError` `body` throws; nil (and an issue recorded for any other error) otherwise.
    static func configError(_ body: () throws -> Void) -> ConfigError? {
        do { try body() } catch let e as ConfigError { return e } catch { Issue.record("unexpected \(error)") }
        return nil
    }
}
