import Foundation
import Testing
@testable import ZooKit

/// The Winograd cache folder's housekeeping: damaged headers, temporary files of exited
/// processes, and what pruning may remove.
extension WinogradWeightCacheTests {
    /// A header page: magic, payload size, descriptor size (the rest zeros).
    static func header(payload: UInt64, descriptorSize: UInt64 = UInt64(WinogradWeightCache.payloadHashOffset - 24)) -> Data {
        var data = Data(WinogradWeightCache.magic)
        withUnsafeBytes(of: payload.littleEndian) { data.append(contentsOf: $0) }
        withUnsafeBytes(of: descriptorSize.littleEndian) { data.append(contentsOf: $0) }
        data.append(Data(count: WinogradWeightCache.headerSize - data.count))
        return data
    }

    @Test("A header whose payload size is near 2^64 is reported as damaged, not added up")
    func hugePayloadSizeInHeader() throws {
        let dir = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for payload in [UInt64.max, UInt64.max - 4095, UInt64.max - 100] {
            let file = dir.appendingPathComponent("0000000000000001.wino")
            try (Self.header(payload: payload) + Data(count: 64)).write(to: file)
            let problem = try #require(WinogradWeightCache.headerProblem(of: file))
            #expect(problem.contains("damaged header"), "\(problem)")
            #expect(WinogradWeightCache.problem(of: file) != nil)
        }
        // A sound header of the same file size is not reported.
        let sound = dir.appendingPathComponent("0000000000000002.wino")
        try (Self.header(payload: 64) + Data(count: 64)).write(to: sound)
        #expect(WinogradWeightCache.headerProblem(of: sound) == nil)
    }

    @Test("A temporary file over ten minutes old whose writer has exited is removed; a living writer's stays")
    func orphanTemporariesRemoved() throws {
        let dir = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // A process that has exited: its pid is free (reuse within the test is very unlikely).
        let exited = Process()
        exited.executableURL = URL(fileURLWithPath: "/bin/true")
        try exited.run()
        exited.waitUntilExit()
        let orphan = dir.appendingPathComponent(".0123456789abcdef.wino.\(exited.processIdentifier).1.tmp")
        let living = dir.appendingPathComponent(".0123456789abcdef.wino.\(getpid()).2.tmp")
        let young = dir.appendingPathComponent(".0123456789abcdef.wino.\(exited.processIdentifier).3.tmp")
        for file in [orphan, living, young] { try Data(repeating: 1, count: 4096).write(to: file) }
        for file in [orphan, living] {
            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-1200)], ofItemAtPath: file.path)
        }
        #expect(WinogradWeightCache.writerHasExited(temporaryName: orphan.lastPathComponent))
        #expect(!WinogradWeightCache.writerHasExited(temporaryName: living.lastPathComponent))
        #expect(!WinogradWeightCache.writerHasExited(temporaryName: ".0123456789abcdef.wino.tmp"))

        let cache = WinogradWeightCache(directory: dir)
        var rng = SeededRandom(seed: 36)
        let input = try BlockedLayoutTests.blocked(NaiveOps.relu(rng.tensor([1, 256, 16, 16])))
        _ = try Self.convolve(rng.tensor([256, 256, 3, 3], scale: 0.03), bias: nil, input, cache)
        cache.waitForPendingWrites()
        #expect(!FileManager.default.fileExists(atPath: orphan.path))
        #expect(FileManager.default.fileExists(atPath: living.path))
        #expect(FileManager.default.fileExists(atPath: young.path))
    }

    @Test("Pruning removes regular .wino files only: a folder with that name stays")
    func pruneLeavesFolders() throws {
        let dir = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = dir.appendingPathComponent("00000000000000ff.wino")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data(repeating: 7, count: 1 << 16).write(to: folder.appendingPathComponent("inside"))
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-3 * 3600)], ofItemAtPath: folder.path)
        let old = dir.appendingPathComponent("00000000000000fe.wino")
        try (Self.header(payload: 0)).write(to: old)
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-2 * 3600)], ofItemAtPath: old.path)

        let cache = WinogradWeightCache(directory: dir, maxBytes: 0)
        var rng = SeededRandom(seed: 37)
        let input = try BlockedLayoutTests.blocked(NaiveOps.relu(rng.tensor([1, 256, 16, 16])))
        _ = try Self.convolve(rng.tensor([256, 256, 3, 3], scale: 0.03), bias: nil, input, cache)
        cache.waitForPendingWrites()
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("inside").path))
        #expect(!FileManager.default.fileExists(atPath: old.path))
    }
}
