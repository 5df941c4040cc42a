import Foundation

/// Why an image could not be read or prepared. Each message is one line naming the file and
/// the problem.
public enum ImageError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file could not be read from disk.
    case unreadable(file: String, reason: String)
    /// The first bytes are neither a PNG nor a JPEG signature.
    case unknownFormat(file: String, firstBytes: String)
    /// The decoder rejected the data (corrupt stream, bad CRC, ...).
    case corrupt(file: String, format: String, reason: String)
    /// The data ends before the image does.
    case truncated(file: String, format: String, reason: String)
    /// A valid file this decoder does not handle (e.g. a CMYK JPEG).
    case unsupported(file: String, format: String, reason: String)
    /// The header announces more pixels than `ImageDecoder.maxPixels` (a decompression bomb, or
    /// simply too large to detect on); nothing was decoded.
    case tooLarge(file: String, format: String, width: Int, height: Int, limit: Int)
    /// `INPUT.FORMAT` names a channel order other than BGR or RGB.
    case unsupportedChannelOrder(String)
    /// A JPEG with more scans than `ImageDecoder.maxJPEGScans` (decoding time grows with scans x
    /// blocks); nothing was decoded.
    case tooManyScans(file: String, limit: Int)

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "cannot read image \(displayPath(file)): \(displayPath(reason)); check the path and its permissions"
        case let .unknownFormat(file, firstBytes):
            return "image \(displayPath(file)) is neither PNG nor JPEG (first bytes \(firstBytes)); convert it to PNG or JPEG"
        case let .corrupt(file, format, reason):
            return "\(format) image \(displayPath(file)) is corrupt: \(displayPath(reason)); re-export or replace the file"
        case let .truncated(file, format, reason):
            return "\(format) image \(displayPath(file)) is truncated: \(displayPath(reason)); the file is incomplete, fetch or copy it again"
        case let .unsupported(file, format, reason):
            return "\(format) image \(displayPath(file)) is not supported: \(displayPath(reason)); convert it to an 8-bit RGB PNG or JPEG"
        case let .tooLarge(file, format, width, height, limit):
            return "\(format) image \(displayPath(file)) is \(width)x\(height), \(width * height) pixels, more than the limit of \(limit) "
                + "(Pillow's decompression-bomb limit); scale it down first"
        case let .unsupportedChannelOrder(format):
            return "INPUT.FORMAT '\(displayText(format))' is not supported; use BGR or RGB"
        case let .tooManyScans(file, limit):
            return "JPEG image \(displayPath(file)) is refused: progressive JPEG with more than \(limit) scans; re-encode it"
        }
    }
}
