import Foundation
import Testing
@testable import ZooKit

/// An index, a config or an image that is not a readable file is one error with a reason a
/// user can act on, not Foundation's "You don't have permission" (a pipe) or
/// "NSCocoaErrorDomain error 256" (a folder); a pipe is refused without being opened.
@Suite struct ReadableFileTests {
    let work = FileManager.default.temporaryDirectory.appendingPathComponent("zoo-readable-\(UUID().uuidString)")

    /// The reason `body`'s `IndexError.cannotRead` or `ConfigError.unreadable` gives, or nil.
    private func reason(_ body: () throws -> Void) -> String? {
        do {
            try body()
        } catch let IndexError.cannotRead(_, reason) {
            return reason
        } catch let ConfigError.unreadable(_, reason) {
            return reason
        } catch {
            Issue.record("unexpected \(error)")
        }
        return nil
    }

    @Test func foldersPipesAndMissingFilesAreNamedAsSuch() throws {
        defer { try? FileManager.default.removeItem(at: work) }
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let pipe = work.appendingPathComponent("index.json")
        #expect(mkfifo(pipe.path, 0o644) == 0)
        let missing = work.appendingPathComponent("missing.yaml")
        #expect(reason { _ = try ZooIndex.read(work) } == "a folder, not a file")
        #expect(reason { _ = try ZooIndex.read(pipe) } == "not a regular file (a device, socket or pipe)")
        #expect(reason { _ = try ZooIndex.read(missing) } == "no such file")
        #expect(reason { _ = try RCNNConfig.load(contentsOf: work) } == "a folder, not a file")
        #expect(reason { _ = try RCNNConfig.load(contentsOf: pipe) } == "not a regular file (a device, socket or pipe)")
        #expect(reason { _ = try RCNNConfig.load(contentsOf: missing) } == "no such file")
    }

    @Test func textThatIsNotUTF8IsSaidSo() throws {
        defer { try? FileManager.default.removeItem(at: work) }
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        let latin1 = work.appendingPathComponent("caf\u{e9}.yaml")
        try Data([0x4D, 0x4F, 0x44, 0x45, 0x4C, 0x3A, 0x20, 0xE9, 0x0A]).write(to: latin1)
        #expect(reason { _ = try RCNNConfig.load(contentsOf: latin1) } == "not UTF-8 text")
        #expect(reason { _ = try ZooIndex.read(latin1) } == "not UTF-8 text")
    }
}
