import Foundation

/// `Content-Range: bytes <start>-<end>/<total>` of a 206, or `bytes */<total>` of a 416.
struct ContentRange: Equatable {
    /// First byte sent (nil for `*/<total>`).
    var start: Int64?
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
        } else {
            let bounds = span.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count == 2, let first = Int64(bounds[0]), let last = Int64(bounds[1]), first >= 0, last >= first else { return nil }
            start = first
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
    /// Date as sent (when the server made the response).
    var date: String?

    /// The ETag if it is strong (If-Range compares strongly; a weak one cannot be used there).
    var strongETag: String? {
        guard let etag, !etag.hasPrefix("W/") else { return nil }
        return etag
    }

    /// Last-Modified if it can stand for the file in If-Range (RFC 9110 13.1.5): the response has
    /// no ETag at all (a weak one rules the date out too), and by its Date the file was at least a
    /// second old when it was sent, so a same-second replacement cannot carry the same date.
    var strongLastModified: String? {
        guard etag == nil, let lastModified, let date,
              let modified = Self.httpDate(lastModified), let sent = Self.httpDate(date),
              sent.timeIntervalSince(modified) >= 1 else { return nil }
        return lastModified
    }

    /// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form HTTP/1.1 servers send; nil otherwise.
    static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.date(from: text)
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
        case "date": date = value.isEmpty ? nil : value
        default: break
        }
    }
}
