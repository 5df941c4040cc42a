import Foundation

/// `Content-Range: bytes <start>-<end>/<total>` of a 206, or `bytes */<total>` of a 416.
struct ContentRange: Equatable {
    /// First byte sent (nil for `*/<total>`).
    var start: Int64?
    /// Last byte sent, inclusive (nil for `*/<total>`).
    var end: Int64?
    /// The whole file's size (nil for `*`).
    var total: Int64?

    /// Parses the header's value; nil if it is not a byte range.
    init?(_ value: String) {
        let text = value.trimmingCharacters(in: .whitespaces)
        guard text.lowercased().hasPrefix("bytes "), let slash = text.lastIndex(of: "/") else { return nil }
        let span = text[text.index(text.startIndex, offsetBy: 6)..<slash].trimmingCharacters(in: .whitespaces)
        let size = text[text.index(after: slash)...].trimmingCharacters(in: .whitespaces)
        if size == "*" {
            total = nil
        } else {
            guard let n = Int64(size), n >= 0 else { return nil }
            total = n
        }
        if span == "*" {
            start = nil
            end = nil
        } else {
            let bounds = span.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count == 2, let first = Int64(bounds[0]), let last = Int64(bounds[1]), first >= 0, last >= first else { return nil }
            start = first
            end = last
        }
    }
}

/// The headers of one HTTP response that decide whether its body continues a partial file.
struct ResponseHeaders {
    /// Content-Length, if sent.
    var contentLength: Int64?
    /// Content-Range, if sent and well formed.
    var contentRange: ContentRange?
    /// ETag as sent (weak ones included).
    var etag: String?
    /// Last-Modified as sent.
    var lastModified: String?

    /// The ETag if it is strong (If-Range compares strongly; a weak one cannot be used there).
    var strongETag: String? {
        guard let etag, !etag.hasPrefix("W/") else { return nil }
        return etag
    }

    /// Takes one header line (`Name: value`).
    mutating func add(_ line: String) {
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        switch name {
        case "content-length": contentLength = Int64(value).flatMap { $0 >= 0 ? $0 : nil }
        case "content-range": contentRange = ContentRange(value)
        case "etag": etag = value.isEmpty ? nil : value
        case "last-modified": lastModified = value.isEmpty ? nil : value
        default: break
        }
    }
}
