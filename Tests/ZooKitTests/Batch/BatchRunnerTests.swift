import Foundation
import Testing
@testable import ZooKit

@Suite("BatchRunner")
struct BatchRunnerTests {
    struct Broken: Error, CustomStringConvertible {
        var description: String { "cannot decode\nsecond line" }
    }

    static let images = (0..<7).map { ImageInput(path: "img\($0).jpg", base: URL(fileURLWithPath: "/data")) }

    static func result(_ input: ImageInput) -> Data {
        Data("{\"image\": \"\(input.path)\", \"instances\": []}".utf8)
    }

    /// Runs the loop with a captured progress sink; `stopAfter` images end the run as Ctrl-C would.
    static func run(
        _ images: [ImageInput] = images, shard: Shard = .all, output: URL, resume: Bool, stopAfter: Int? = nil,
        body: (ImageInput) throws -> Data = result
    ) throws -> (summary: BatchSummary, called: [String], stderr: String) {
        let writer = try JSONLinesWriter(url: output, resume: resume)
        var called: [String] = []
        var stderr = ""
        let summary = try BatchRunner.run(
            images: images, shard: shard, writer: writer,
            progress: { BatchProgress(total: $0, showsBar: false, now: { 0 }, write: { stderr += $0 }) },
            shouldStop: { stopAfter.map { called.count >= $0 } ?? false },
            body: { input in called.append(input.path); return try body(input) }
        )
        try writer.close()
        return (summary, called, stderr)
    }

    static func imagesIn(_ url: URL) throws -> [String] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return try #require(object["image"] as? String)
        }
    }

    @Test func writesALinePerImageAndReportsFailuresOnOneLine() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        let out = tree.url("out.jsonl")
        let (summary, called, stderr) = try Self.run(output: out, resume: false) { input in
            if input.path == "img3.jpg" { throw Broken() }
            if input.path == "img5.jpg" { return Data("{\"image\": \"elsewhere.jpg\"}".utf8) }
            return Self.result(input)
        }
        #expect(called == Self.images.map(\.path))
        #expect(summary == BatchSummary(selected: 7, skipped: 0, succeeded: 5, failed: 2, interrupted: false))
        #expect(try Self.imagesIn(out) == ["img0.jpg", "img1.jpg", "img2.jpg", "img4.jpg", "img6.jpg"])
        let lines = stderr.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first == "img3.jpg: cannot decode second line")
        #expect(lines.last?.hasPrefix("img5.jpg: ") == true)
    }

    @Test func interruptedRunResumesWithoutRedoingImages() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        let out = tree.url("out.jsonl")
        let first = try Self.run(output: out, resume: false, stopAfter: 3)
        #expect(first.summary.interrupted && first.summary.succeeded == 3 && first.summary.remaining == 4)
        #expect(try Self.imagesIn(out) == ["img0.jpg", "img1.jpg", "img2.jpg"])
        let second = try Self.run(output: out, resume: true)
        #expect(second.called == ["img3.jpg", "img4.jpg", "img5.jpg", "img6.jpg"])
        #expect(second.summary == BatchSummary(selected: 7, skipped: 3, succeeded: 4, failed: 0, interrupted: false))
        #expect(try Self.imagesIn(out) == Self.images.map(\.path))
        // A third run finds nothing left to do.
        let third = try Self.run(output: out, resume: true)
        #expect(third.called.isEmpty && third.summary.skipped == 7)
    }

    @Test func resumeKnowsAnImageDoneUnderAnotherSpelling() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        let out = tree.url("out.jsonl")
        try tree.make(["photos/img0.jpg", "photos/img1.jpg", "photos/img2.jpg"])
        let folder = tree.url("photos").path
        let spelled = (0..<3).map { ImageInput(path: "\(folder)/img\($0).jpg") }
        let other = (0..<3).map { ImageInput(path: "\(folder)/./../photos/img\($0).jpg") }
        _ = try Self.run(other, output: out, resume: false, stopAfter: 2)
        let second = try Self.run(spelled, output: out, resume: true)
        #expect(second.called == ["\(folder)/img2.jpg"])
        #expect(second.summary.skipped == 2)
    }

    @Test func resumeRedoesTheImageOfATruncatedLastLine() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        let out = tree.url("out.jsonl")
        _ = try Self.run(Array(Self.images.prefix(3)), output: out, resume: false)
        // A crash in the middle of writing img3's line.
        let handle = try FileHandle(forWritingTo: out)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("{\"image\": \"img3.jpg\", \"inst".utf8))
        try handle.close()
        let resumed = try Self.run(output: out, resume: true)
        #expect(resumed.called == ["img3.jpg", "img4.jpg", "img5.jpg", "img6.jpg"])
        #expect(try Self.imagesIn(out) == Self.images.map(\.path))
    }

    @Test func failedImagesAreRetriedOnResume() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        let out = tree.url("out.jsonl")
        let first = try Self.run(output: out, resume: false) { input in
            if input.path == "img2.jpg" { throw Broken() }
            return Self.result(input)
        }
        #expect(first.summary.failed == 1)
        let second = try Self.run(output: out, resume: true)
        #expect(second.called == ["img2.jpg"])
        #expect(Set(try Self.imagesIn(out)) == Set(Self.images.map(\.path)))
    }

    @Test func shardsSplitTheBatchAcrossOutputs() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        var all: [String] = []
        for index in 0..<3 {
            let out = tree.url("part-\(index).jsonl")
            let run = try Self.run(shard: try Shard(index: index, count: 3), output: out, resume: false)
            #expect(run.summary.selected == (index == 0 ? 3 : 2))
            all += try Self.imagesIn(out)
        }
        #expect(all.sorted() == Self.images.map(\.path).sorted())
        #expect(Set(all).count == all.count)
    }

    @Test func writeErrorStopsTheBatch() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        let out = tree.url("out.jsonl")
        let writer = try JSONLinesWriter(url: out, resume: false)
        try writer.close()
        #expect(throws: BatchError.self) {
            try BatchRunner.run(
                images: Self.images, shard: .all, writer: writer,
                progress: { BatchProgress(total: $0, showsBar: false, now: { 0 }, write: { _ in }) },
                shouldStop: { false }, body: Self.result
            )
        }
    }

    @Test func publicEntryPointWritesTheOutputFile() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        let out = tree.url("out.jsonl")
        let summary = try BatchRunner.run(images: Self.images, resume: false, output: out, quiet: true, handleInterrupts: false, body: Self.result)
        #expect(summary.succeeded == 7)
        #expect(try Self.imagesIn(out) == Self.images.map(\.path))
    }
}

/// SIGINT handlers are process-wide: these tests must not overlap.
@Suite("BatchRunner interrupts", .serialized)
struct BatchInterruptTests {
    /// Sends SIGINT to this process and waits (bounded; not a timing assertion) until it is seen.
    static func interrupt() {
        kill(getpid(), SIGINT)
        for _ in 0..<500 where !InterruptMonitor().isInterrupted { usleep(10_000) }
    }

    @Test func interruptMonitorCatchesSIGINT() throws {
        let monitor = InterruptMonitor()
        monitor.start()
        defer { monitor.stop() }
        #expect(!monitor.isInterrupted)
        Self.interrupt()
        #expect(monitor.isInterrupted)
        // A restart clears it.
        monitor.stop()
        monitor.start()
        #expect(!monitor.isInterrupted)
    }

    @Test func ctrlCStopsAfterTheCurrentImageAndItsLineIsKept() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        let out = tree.url("out.jsonl")
        var called: [String] = []
        let summary = try BatchRunner.run(images: BatchRunnerTests.images, resume: false, output: out, quiet: true) { input in
            called.append(input.path)
            if called.count == 3 { Self.interrupt() }
            return BatchRunnerTests.result(input)
        }
        #expect(summary == BatchSummary(selected: 7, skipped: 0, succeeded: 3, failed: 0, interrupted: true))
        #expect(called == ["img0.jpg", "img1.jpg", "img2.jpg"])
        #expect(try BatchRunnerTests.imagesIn(out) == called)
    }
}
