import Foundation
import Testing
@testable import ZooKit

@Suite("ImageInputs")
struct ImageInputsTests {
    static let files = [
        "photos/a.jpg", "photos/B.PNG", "photos/sub/c.jpeg", "photos/sub/notes.txt",
        "photos/.hidden.jpg", "photos/.cache/d.jpg", "other/e.png", "other/f.JPG", "x[1].jpg", "empty/",
    ]

    func expand(_ arguments: [String], in tree: BatchTestTree) throws -> [String] {
        try ImageInputs.expand(arguments, base: tree.root).map(\.path)
    }

    @Test func directoryIsWalkedForImagesOnly() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        try tree.make(Self.files)
        let expected = ["photos/B.PNG", "photos/a.jpg", "photos/sub/c.jpeg"]
        #expect(try expand(["photos"], in: tree) == expected)
        #expect(try expand(["photos/"], in: tree) == expected)
        #expect(try expand(["photos//"], in: tree) == expected)
    }

    @Test func explicitFileIsTakenWhateverItsExtension() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        try tree.make(Self.files)
        #expect(try expand(["photos/sub/notes.txt"], in: tree) == ["photos/sub/notes.txt"])
        // An existing name with glob characters is a file, not a pattern.
        #expect(try expand(["x[1].jpg"], in: tree) == ["x[1].jpg"])
    }

    @Test(arguments: [
        ("*/*.jpg", ["photos/a.jpg"]),
        ("**/*.jpeg", ["photos/sub/c.jpeg"]),
        ("**/*.jpg", ["photos/a.jpg", "x[1].jpg"]),
        ("?ther/[e-f].*", ["other/e.png", "other/f.JPG"]),
        ("other/[!e]*", ["other/f.JPG"]),
        ("photos/*", ["photos/B.PNG", "photos/a.jpg", "photos/sub/c.jpeg"]),
        ("photos/**", ["photos/B.PNG", "photos/a.jpg", "photos/sub/c.jpeg", "photos/sub/notes.txt"]),
        ("photos/**/notes.*", ["photos/sub/notes.txt"]),
        ("photos/.*/*.jpg", ["photos/.cache/d.jpg"]),
        ("x\\[1\\].*", ["x[1].jpg"]),
    ])
    func globsExpandAsBashWithGlobstar(pattern: String, expected: [String]) throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        try tree.make(Self.files)
        #expect(try expand([pattern], in: tree) == expected)
    }

    @Test func absolutePatternKeepsAbsolutePaths() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        try tree.make(Self.files)
        let root = tree.root.path
        #expect(try expand([root + "/other/*.png"], in: tree) == [root + "/other/e.png"])
    }

    @Test func listIsSortedByteWiseAndDeduplicated() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        try tree.make(Self.files)
        try tree.link("alias.jpg", to: "photos/a.jpg")
        let paths = try expand(["photos", "other", "photos/a.jpg", "./photos/a.jpg", "alias.jpg", "*/*.jpg"], in: tree)
        // `./photos/a.jpg` sorts first and stands for the file; the others spelling it are dropped.
        #expect(paths == ["./photos/a.jpg", "other/e.png", "other/f.JPG", "photos/B.PNG", "photos/sub/c.jpeg"])
        // Argument order does not change the list.
        let shuffled = try expand(["*/*.jpg", "alias.jpg", "other", "./photos/a.jpg", "photos", "photos/a.jpg"], in: tree)
        #expect(shuffled == paths)
    }

    @Test func symbolicLinkCycleIsWalkedOnce() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        try tree.make(Self.files)
        try tree.link("photos/sub/loop", to: "..")
        #expect(try expand(["photos"], in: tree) == ["photos/B.PNG", "photos/a.jpg", "photos/sub/c.jpeg"])
        #expect(try expand(["photos/**/*.jpg"], in: tree) == ["photos/a.jpg"])
    }

    @Test func inputURLPointsAtTheFile() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        try tree.make(Self.files)
        let inputs = try ImageInputs.expand(["**/*.jpeg"], base: tree.root)
        #expect(inputs.count == 1)
        let contents = try Data(contentsOf: try #require(inputs.first).url)
        #expect(String(decoding: contents, as: UTF8.self) == "photos/sub/c.jpeg")
    }

    @Test func missingInputsAreNamed() throws {
        let tree = try BatchTestTree(); defer { tree.remove() }
        try tree.make(Self.files)
        #expect(throws: BatchError.missingInput(path: "nope.jpg")) { try expand(["photos", "nope.jpg"], in: tree) }
        #expect(throws: BatchError.noMatch(pattern: "*.gif")) { try expand(["*.gif"], in: tree) }
        #expect(throws: BatchError.noMatch(pattern: "empty/*")) { try expand(["empty/*"], in: tree) }
        #expect(throws: BatchError.noImagesInDirectory(path: "empty")) { try expand(["empty"], in: tree) }
        #expect(throws: BatchError.self) { try expand(["photos/[ab"], in: tree) }
        let message = BatchError.noMatch(pattern: "*.gif").description
        #expect(message.contains("*.gif") && !message.contains("\n"))
    }

    @Test func emptyArgumentIsMissingNotTheCurrentDirectory() throws {
        // `zoo run M "$IMG"` with IMG unset: "" would otherwise walk the whole folder.
        let tree = try BatchTestTree(); defer { tree.remove() }
        try tree.make(Self.files)
        #expect(throws: BatchError.missingInput(path: "")) { try expand([""], in: tree) }
        #expect(throws: BatchError.missingInput(path: "")) { try expand(["photos", ""], in: tree) }
        let message = BatchError.missingInput(path: "").description
        #expect(message.contains("empty") && !message.contains("\n"), "\(message)")
    }

    @Test(arguments: [
        ("*.jpg", "a.jpg", true), ("*.jpg", ".a.jpg", false), (".*", ".a", true),
        ("a?c", "abc", true), ("a?c", "ac", false), ("*a*b", "xxaxxb", true), ("*a*b", "xxaxxbc", false),
        ("[a-c]x", "bx", true), ("[a-c]x", "dx", false), ("[!a-c]x", "dx", true), ("[^a]", "a", false),
        ("[]]", "]", true), ("[]a]", "a", true), ("\\*", "*", true), ("\\*", "a", false),
        ("*", "", true), ("**x", "abx", true), ("a*", "a", true), ("ü?", "üß", true),
    ])
    func namePatternMatchesLikeFnmatch(pattern: String, name: String, expected: Bool) throws {
        #expect(try NamePattern(pattern, pattern: pattern).matches(name) == expected)
    }
}
