import Foundation
import Testing
@testable import ZooKit

@Suite("JSONLinesWriter")
struct JSONLinesWriterTests {
    static func line(_ image: String, _ extra: String = "") -> Data {
        Data("{\"image\": \"\(image)\", \"instances\": [\(extra)]}".utf8)
    }

    /// The file's lines, each parsed as a JSON object; fails the test on anything else.
    static func objects(_ url: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.isEmpty || text.hasSuffix("\n"))
        return try text.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }

    @Test func writesOneParseableObjectPerLine() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        let url = tree.url("out.jsonl")
        let writer = try JSONLinesWriter(url: url, resume: false)
        try writer.append(Self.line("a.jpg", "1, 2"), image: "a.jpg")
        try writer.append(Self.line("dir/b c.png") + Data("\n".utf8), image: "dir/b c.png")
        // Each line is on disk as soon as append returns.
        #expect(try Self.objects(url).count == 2)
        try writer.append(Self.line("ü.jpg"), image: "ü.jpg")
        try writer.close()
        let images = try Self.objects(url).map { $0["image"] as? String }
        #expect(images == ["a.jpg", "dir/b c.png", "ü.jpg"])
        #expect(writer.completedImages == ["a.jpg", "dir/b c.png", "ü.jpg"])
        #expect(throws: BatchError.self) { try writer.append(Self.line("d.jpg"), image: "d.jpg") }
    }

    @Test func withoutResumeAnExistingFileIsEmptied() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        let url = tree.url("out.jsonl")
        try Data("{\"image\": \"old.jpg\"}\n".utf8).write(to: url)
        let writer = try JSONLinesWriter(url: url, resume: false)
        #expect(writer.completedImages.isEmpty)
        try writer.append(Self.line("new.jpg"), image: "new.jpg")
        try writer.close()
        #expect(try Self.objects(url).map { $0["image"] as? String } == ["new.jpg"])
    }

    @Test func withoutResumeAnExistingFileIsKeptUntilTheFirstLine() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        let url = tree.url("out.jsonl")
        let old = Data("{\"image\": \"old.jpg\"}\n".utf8)
        try old.write(to: url)
        // A run in which every image fails writes no line: the old file is untouched.
        let failing = try JSONLinesWriter(url: url, resume: false)
        #expect(throws: BatchError.self) { try failing.append(Data("not json".utf8), image: "x.jpg") }
        #expect(failing.keepsEarlierLines)
        try failing.close()
        #expect(try Data(contentsOf: url) == old)
        let writing = try JSONLinesWriter(url: url, resume: false)
        try writing.append(Self.line("new.jpg"), image: "new.jpg")
        #expect(!writing.keepsEarlierLines)
        try writing.close()
        #expect(try Self.objects(url).map { $0["image"] as? String } == ["new.jpg"])
    }

    @Test func aSecondWriterOfTheSameFileIsRefusedWhileTheFirstIsOpen() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        let url = tree.url("out.jsonl")
        let first = try JSONLinesWriter(url: url, resume: false)
        try first.append(Self.line("a.jpg"), image: "a.jpg")
        #expect(throws: BatchError.self) { _ = try JSONLinesWriter(url: url, resume: true) }
        #expect(throws: BatchError.self) { _ = try JSONLinesWriter(url: url, resume: false) }
        try first.close()
        let second = try JSONLinesWriter(url: url, resume: true)
        #expect(second.completedImages == ["a.jpg"])
        try second.close()
    }

    @Test func devicesAndPipesAreWrittenWithoutEmptying() throws {
        // /dev/null cannot be truncated (EINVAL); writing to it (or to a pipe) must still work.
        let writer = try JSONLinesWriter(url: URL(fileURLWithPath: "/dev/null"), resume: false)
        try writer.append(Self.line("a.jpg"), image: "a.jpg")
        #expect(!writer.keepsEarlierLines)
        try writer.close()
    }

    @Test func resumeReportsDoneImagesAndAppends() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        let url = tree.url("out.jsonl")
        try Data("{\"image\": \"a.jpg\"}\n\n{\"image\": \"b.jpg\", \"x\": 1}\n".utf8).write(to: url)
        let writer = try JSONLinesWriter(url: url, resume: true)
        #expect(writer.completedImages == ["a.jpg", "b.jpg"])
        #expect(writer.resumedLineCount == 2 && writer.droppedPartialBytes == 0)
        try writer.append(Self.line("c.jpg"), image: "c.jpg")
        try writer.close()
        #expect(try Self.objects(url).map { $0["image"] as? String } == ["a.jpg", "b.jpg", "c.jpg"])
    }

    @Test func resumeWithoutAFileStartsOne() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        let url = tree.url("new.jsonl")
        let writer = try JSONLinesWriter(url: url, resume: true)
        #expect(writer.completedImages.isEmpty)
        try writer.append(Self.line("a.jpg"), image: "a.jpg")
        try writer.close()
        #expect(try Self.objects(url).count == 1)
    }

    @Test(arguments: ["{\"image\": \"c.jp", "{\"image\": \"c.jpg\"}", "\0\0\0", "{"])
    func resumeDropsAPartialLastLine(tail: String) throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        let url = tree.url("out.jsonl")
        let complete = "{\"image\": \"a.jpg\"}\n{\"image\": \"b.jpg\"}\n"
        try Data((complete + tail).utf8).write(to: url)
        let writer = try JSONLinesWriter(url: url, resume: true)
        #expect(writer.completedImages == ["a.jpg", "b.jpg"])
        #expect(writer.droppedPartialBytes == tail.utf8.count)
        // The file was rewritten without the partial line, and no temp file is left behind.
        #expect(try String(contentsOf: url, encoding: .utf8) == complete)
        #expect(try FileManager.default.contentsOfDirectory(atPath: tree.root.path) == ["out.jsonl"])
        try writer.append(Self.line("c.jpg"), image: "c.jpg")
        try writer.close()
        #expect(try Self.objects(url).map { $0["image"] as? String } == ["a.jpg", "b.jpg", "c.jpg"])
    }

    @Test func resumeReadsAFileOfManyChunks() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        let url = tree.url("out.jsonl")
        // Lines of varied length so that chunk boundaries fall inside lines.
        var content = Data()
        var expected = Set<String>()
        var index = 0
        while content.count < 2 * JSONLinesWriter.chunkSize + 12345 {
            let image = "img\(index).jpg"
            let padding = String(repeating: "x", count: 500 + (index * 7919) % 3000)
            content.append(Data("{\"image\": \"\(image)\", \"pad\": \"\(padding)\"}\n".utf8))
            expected.insert(image)
            index += 1
        }
        let complete = content.count
        content.append(Data("{\"image\": \"img\(index).jpg\", \"pad\": \"xx".utf8))
        try content.write(to: url)
        let writer = try JSONLinesWriter(url: url, resume: true)
        try writer.close()
        #expect(writer.completedImages == expected)
        #expect(writer.resumedLineCount == index)
        #expect(writer.droppedPartialBytes == content.count - complete)
        #expect(try Data(contentsOf: url) == content.prefix(complete))
    }

    @Test(arguments: [
        ("{\"image\": \"a.jpg\"}\nnot json\n{\"image\": \"b.jpg\"}\n", 2),
        ("[1, 2]\n", 1),
        ("{\"image\": \"a.jpg\"}\n{\"file\": \"b.jpg\"}\n", 2),
        ("{\"image\": 3}\n", 1),
    ])
    func resumeRefusesACorruptCompleteLine(content: String, line: Int) throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        let url = tree.url("out.jsonl")
        try Data(content.utf8).write(to: url)
        do {
            _ = try JSONLinesWriter(url: url, resume: true)
            Issue.record("a corrupt line was accepted")
        } catch let error as BatchError {
            guard case let .corruptOutputLine(file, number, _) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(file == url.path && number == line)
        }
        // The file is left as it was.
        #expect(try String(contentsOf: url, encoding: .utf8) == content)
    }

    @Test(arguments: [
        ("{\"image\": \"a.jpg\",\n\"x\": 1}", "a.jpg"),
        ("[\"a.jpg\"]", "a.jpg"),
        ("{\"image\": \"b.jpg\"}", "a.jpg"),
        ("{\"name\": \"a.jpg\"}", "a.jpg"),
        ("{\"image\": \"a.jpg\"", "a.jpg"),
    ])
    func appendRejectsWhatIsNotOneLineForTheImage(line: String, image: String) throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        let url = tree.url("out.jsonl")
        let writer = try JSONLinesWriter(url: url, resume: false)
        #expect(throws: BatchError.self) { try writer.append(Data(line.utf8), image: image) }
        try writer.close()
        #expect(try Data(contentsOf: url).isEmpty)
    }

    @Test func unwritableOutputIsAnIOError() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        let url = tree.url("missing-folder/out.jsonl")
        #expect(throws: BatchError.self) { try JSONLinesWriter(url: url, resume: false) }
    }
}
