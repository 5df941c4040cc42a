import Foundation

/// What went wrong while expanding a batch's inputs, parsing `--shard`, or reading and writing
/// its JSON Lines output.
public enum BatchError: Error, CustomStringConvertible, Sendable, Equatable {
    /// A file or directory named on the command line does not exist (or the name is empty).
    case missingInput(path: String)
    /// A glob pattern matched nothing.
    case noMatch(pattern: String)
    /// A directory holds no `.jpg`, `.jpeg` or `.png` file, at any depth.
    case noImagesInDirectory(path: String)
    /// A directory could not be listed.
    case unreadableDirectory(path: String, detail: String)
    /// A glob pattern is malformed (an unclosed `[`, a trailing `\`).
    case badPattern(pattern: String, detail: String)
    /// `--shard` is not `K/N` with `0 <= K < N`.
    case badShard(text: String, detail: String)
    /// A complete line of an existing JSON Lines file is not a JSON object with an `"image"` string.
    case corruptOutputLine(file: String, line: Int, detail: String)
    /// The JSON line produced for an image is unusable (not one JSON object, or its `"image"` is not the input's path).
    case badResultLine(image: String, detail: String)
    /// The output file could not be read, written or replaced.
    case io(file: String, detail: String)

    public var description: String {
        switch self {
        case let .missingInput(path) where path.isEmpty:
            return "an image argument is empty (\"\"); give an image file, folder or pattern (is a shell variable unset?)"
        case let .missingInput(path):
            return "\(path): no such file or directory; check the path (relative paths start at the current directory)"
        case let .noMatch(pattern):
            return "\(pattern): the pattern matches no file; check it, or quote it differently (* ? [..] and ** are zoo's, as in the shell)"
        case let .noImagesInDirectory(path):
            return "\(path): directory holds no .jpg, .jpeg or .png file at any depth; name image files or another directory"
        case let .unreadableDirectory(path, detail):
            return "\(path): cannot list directory (\(detail)); check its permissions"
        case let .badPattern(pattern, detail):
            return "\(pattern): malformed pattern (\(detail)); escape a literal [ or \\ with a backslash"
        case let .badShard(text, detail):
            return "--shard \(text): \(detail); write K/N with 0 <= K < N, e.g. 0/4 ... 3/4"
        case let .corruptOutputLine(file, line, detail):
            return "\(file):\(line): \(detail); the file is not zoo's JSON Lines output, remove that line or write to another file"
        case let .badResultLine(image, detail):
            return "\(image): result line rejected (\(detail)); this is a bug in the caller of BatchRunner, please report it"
        case let .io(file, detail):
            return "\(file): \(detail)"
        }
    }
}
