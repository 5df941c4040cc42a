import Foundation
import Testing
@testable import ZooKit

/// An image whose result line is made but a later step for it fails (its picture), and failure
/// lines for paths holding control characters.
@Suite("BatchRunner: late failures and odd paths")
struct BatchRunnerLateFailureTests {
    struct PictureBroken: Error, CustomStringConvertible {
        var description: String { "picture out/img2.png not written: disk full" }
    }

    @Test func aFailureAfterTheResultKeepsTheLineAndCountsAsFailed() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        let out = tree.url("out.jsonl")
        let (summary, called, stderr) = try BatchRunnerTests.run(output: out, resume: false) { input in
            if input.path == "img2.jpg" {
                throw BatchRunner.FailedAfterResult(line: BatchRunnerTests.result(input), failure: PictureBroken())
            }
            return BatchRunnerTests.result(input)
        }
        #expect(called == BatchRunnerTests.images.map(\.path))
        #expect(summary == BatchSummary(selected: 7, skipped: 0, succeeded: 6, failed: 1, interrupted: false))
        #expect(try BatchRunnerTests.imagesIn(out) == BatchRunnerTests.images.map(\.path))
        #expect(stderr.split(separator: "\n") == ["img2.jpg: picture out/img2.png not written: disk full"])
    }

    @Test func aRejectedLineOfALateFailureIsReportedOnce() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        let out = tree.url("out.jsonl")
        let (summary, _, stderr) = try BatchRunnerTests.run(output: out, resume: false) { input in
            if input.path == "img2.jpg" {
                throw BatchRunner.FailedAfterResult(line: Data("{\"image\": \"other.jpg\"}".utf8), failure: PictureBroken())
            }
            return BatchRunnerTests.result(input)
        }
        #expect(summary.failed == 1 && summary.succeeded == 6)
        #expect(stderr.split(separator: "\n").count == 1, "\(stderr)")
    }

    @Test func aPathWithANewlineOrEscapeIsShownEscapedOnOneLine() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        let out = tree.url("out.jsonl")
        let odd = ImageInput(path: "bad\nname\u{1b}[2J.jpg", base: URL(fileURLWithPath: "/data"))
        let (summary, _, stderr) = try BatchRunnerTests.run([odd], output: out, resume: false) { _ in
            throw BatchRunnerTests.Broken()
        }
        #expect(summary.failed == 1)
        #expect(stderr == "bad\\u{a}name\\u{1b}[2J.jpg: cannot decode second line\n")
        #expect(BatchRunner.failureMessage(BatchRunnerTests.Broken(), for: odd) == "bad\\u{a}name\\u{1b}[2J.jpg: cannot decode second line")
    }
}
