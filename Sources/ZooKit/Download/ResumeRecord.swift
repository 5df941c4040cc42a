import Foundation

/// What a partial download (`<file>.part`) came from, kept beside it in `<file>.part.resume` so that
/// a later attempt resumes only the same file: the source URL, the server's validator (a strong
/// ETag, else Last-Modified; sent as If-Range) and the total size the server declared. Written
/// atomically before the first byte of a response reaches the partial file; removed with it.
struct ResumeRecord: Codable, Equatable {
    /// The URL the partial file's bytes came from (a mirror's, if one was used).
    var url: String
    /// The response's strong ETag, quotes included.
    var etag: String?
    /// The response's Last-Modified, kept only when there is no strong ETag.
    var lastModified: String?
    /// The file's size as the server declared it (Content-Length of a 200, Content-Range total of a 206).
    var total: Int64?

    /// The value for If-Range: the ETag, else Last-Modified; nil when the server sent neither.
    var validator: String? { etag ?? lastModified }

    /// The sidecar beside `part`.
    static func path(forPart part: String) -> String { part + ".resume" }

    /// Why `response` (declaring `total` bytes for the whole file) does not come from the file this
    /// record's bytes came from: another ETag or Last-Modified, or another size; nil if it does.
    func mismatch(_ response: ResponseHeaders, total: Int64?) -> String? {
        if let etag, response.strongETag != etag {
            return "the server's ETag changed from \(etag) to \(response.etag ?? "none")"
        }
        if etag == nil, let lastModified, response.lastModified != lastModified {
            return "the server's Last-Modified changed from \(lastModified) to \(response.lastModified ?? "none")"
        }
        if let mine = self.total, let total, total != mine {
            return "the server's file is now \(total) bytes, not \(mine)"
        }
        return nil
    }

    /// Whether `name` is a sidecar's file name.
    static func isSidecar(_ name: String) -> Bool { name.hasSuffix(".part.resume") }

    /// The record beside `part`, or nil if there is none or it cannot be read (the partial file is
    /// then treated as of unknown origin).
    static func read(forPart part: String) -> ResumeRecord? {
        guard let data = FileManager.default.contents(atPath: path(forPart: part)) else { return nil }
        return try? JSONDecoder().decode(ResumeRecord.self, from: data)
    }

    /// Replaces the record beside `part`: a temporary file, fsync, rename, so a crash leaves the old
    /// record or the new one.
    func write(forPart part: String) throws {
        let target = Self.path(forPart: part)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data: Data
        do { data = try encoder.encode(self) } catch {
            throw DownloadError.io(operation: "encode resume record", path: target, errno: EINVAL)
        }
        try writeAtomically(data, to: URL(fileURLWithPath: target))
    }

    /// Removes the record beside `part` (absent is fine).
    static func remove(forPart part: String) {
        unlink(path(forPart: part))
    }
}

/// Removes a partial file and its resume record.
func removePartial(_ part: String) {
    unlink(part)
    ResumeRecord.remove(forPart: part)
}
