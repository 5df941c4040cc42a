import Foundation

/// One image of a batch: its path as the user wrote it (or as zoo found it below a directory or
/// through a glob), which is also the `"image"` key of its JSON line.
public struct ImageInput: Hashable, Sendable, CustomStringConvertible {
    /// The path as given on the command line or walked (`photos/2024/a.jpg`); relative paths
    /// are relative to the directory `ImageInputs.expand` was given (the current directory).
    public let path: String
    /// Where the file is on disk.
    public let url: URL

    /// An input at `path`, resolved against `base` when relative (default: the current directory).
    public init(path: String, base: URL? = nil) {
        self.path = path
        if path.hasPrefix("/") {
            url = URL(fileURLWithPath: path)
        } else {
            let start = base ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath, isDirectory: true)
            url = start.appendingPathComponent(path)
        }
    }

    init(path: String, url: URL) {
        self.path = path
        self.url = url
    }

    public var description: String { path }

    /// The file on disk `url` names, whatever its spelling (`./a.jpg`, `x/../a.jpg`, a symbolic
    /// link): two inputs, or an input and an output, are the same file when their keys are equal.
    public static func fileKey(_ url: URL) -> String {
        url.standardizedFileURL.resolvingSymlinksInPath().path
    }
}

/// Expands the `IMAGE...` arguments of `zoo run` into the batch's sorted, de-duplicated list.
///
/// Each argument is, in this order of precedence:
/// - an existing file: taken as it is, whatever its extension;
/// - an existing directory: walked recursively for `.jpg`, `.jpeg` and `.png` files (any case),
///   skipping names that start with `.`, following symbolic links (each directory once);
/// - a pattern with `*`, `?`, `[...]` or `**` that the shell left unexpanded (quoted): expanded
///   as bash with `globstar` would, matched directories walked as above.
///
/// The result is sorted by path, byte by byte (as `LC_ALL=C sort` does), so that every machine
/// given the same arguments over the same files builds the same list (which `Shard` relies on).
/// Two spellings of one file (`a.jpg`, `./a.jpg`, a symbolic link) count once: the first in
/// that order is kept.
public enum ImageInputs {
    /// The extensions (lower case, without the dot) that a directory walk picks up.
    public static let imageExtensions: Set<String> = ["jpg", "jpeg", "png"]

    /// The batch for `arguments`; relative paths start at `base` (default: the current directory).
    ///
    /// Throws `BatchError.missingInput` for a path that does not exist or is empty, `.noMatch` for a pattern
    /// that matches nothing, `.noImagesInDirectory` for a directory without images.
    public static func expand(_ arguments: [String], base: URL? = nil, fileManager: FileManager = .default) throws -> [ImageInput] {
        let start = base ?? URL(fileURLWithPath: fileManager.currentDirectoryPath, isDirectory: true)
        var found: [ImageInput] = []
        for argument in arguments {
            // "" would name the current directory (an unset `$IMG`): never walk it unasked.
            guard !argument.isEmpty else { throw BatchError.missingInput(path: argument) }
            let literal = ImageInput(path: argument, base: start)
            var isDir: ObjCBool = false
            if fileManager.fileExists(atPath: literal.url.path, isDirectory: &isDir) {
                if isDir.boolValue {
                    let images = try walk(GlobPattern.Match(display: trimmingTrailingSlashes(argument), url: literal.url), fileManager)
                    if images.isEmpty { throw BatchError.noImagesInDirectory(path: argument) }
                    found += images
                } else {
                    found.append(literal)
                }
            } else if GlobPattern.hasWildcards(argument) {
                let matches = try GlobPattern(argument).expand(base: start, fileManager: fileManager)
                if matches.isEmpty { throw BatchError.noMatch(pattern: argument) }
                var images: [ImageInput] = []
                for match in matches {
                    if isDirectory(match.url, fileManager) {
                        images += try walk(match, fileManager)
                    } else {
                        images.append(ImageInput(path: match.display, url: match.url))
                    }
                }
                if images.isEmpty { throw BatchError.noMatch(pattern: argument) }
                found += images
            } else {
                throw BatchError.missingInput(path: argument)
            }
        }
        return sortedUnique(found)
    }

    /// Whether `path` ends in `.jpg`, `.jpeg` or `.png`, in any case.
    public static func isImagePath(_ path: String) -> Bool {
        let ext = (path as NSString).pathExtension.lowercased()
        return imageExtensions.contains(ext)
    }

    /// The order of the batch: byte-wise on the UTF-8 path, independent of locale.
    static func pathOrder(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// Sorts by path and keeps the first spelling of each file on disk.
    static func sortedUnique(_ inputs: [ImageInput]) -> [ImageInput] {
        var seen = Set<String>()
        var out: [ImageInput] = []
        for input in inputs.sorted(by: { pathOrder($0.path, $1.path) }) {
            if seen.insert(ImageInput.fileKey(input.url)).inserted { out.append(input) }
        }
        return out
    }

    /// Every image file below `directory` (not hidden, symbolic links followed once).
    private static func walk(_ directory: GlobPattern.Match, _ fileManager: FileManager) throws -> [ImageInput] {
        var out: [ImageInput] = []
        var visited = Set<String>()
        try walk(directory, fileManager, &visited, &out)
        return out
    }

    private static func walk(_ directory: GlobPattern.Match, _ fileManager: FileManager, _ visited: inout Set<String>, _ out: inout [ImageInput]) throws {
        guard visited.insert(directory.url.resolvingSymlinksInPath().path).inserted else { return }
        let names: [String]
        do {
            names = try fileManager.contentsOfDirectory(atPath: directory.url.path)
        } catch {
            throw BatchError.unreadableDirectory(path: directory.display, detail: error.localizedDescription)
        }
        for name in names.sorted(by: pathOrder) where !name.hasPrefix(".") {
            let child = directory.appending(name)
            if isDirectory(child.url, fileManager) {
                try walk(child, fileManager, &visited, &out)
            } else if isImagePath(name) {
                out.append(ImageInput(path: child.display, url: child.url))
            }
        }
    }

    private static func isDirectory(_ url: URL, _ fileManager: FileManager) -> Bool {
        var isDir: ObjCBool = false
        return fileManager.fileExists(atPath: url.path, isDirectory: &isDir) && isDir.boolValue
    }

    /// `photos/` -> `photos`, so walked paths read `photos/a.jpg`; `/` stays `/`.
    private static func trimmingTrailingSlashes(_ path: String) -> String {
        var p = Substring(path)
        while p.count > 1, p.hasSuffix("/") { p = p.dropLast() }
        return String(p)
    }
}
