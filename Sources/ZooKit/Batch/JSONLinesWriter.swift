import Foundation

/// Appends one JSON object per line to a JSON Lines file, one line per image, each written with
/// one `write(2)` and `fsync(2)`ed before `append` returns: a crash loses at most the line in
/// progress.
///
/// Opened with `resume: true`, the writer first reads the existing file: every complete line
/// must be a JSON object with an `"image"` string, and those strings become `completedImages`.
/// A last line without its newline (a crash in the middle of a write) is dropped: the file is cut
/// before it.
/// Opened with `resume: false`, an existing regular file is emptied when the first line is
/// written, so a run in which every image fails leaves it as it was (`keepsEarlierLines`).
public final class JSONLinesWriter {
    /// The output file.
    public let url: URL
    /// The `"image"` of every line already in the file when it was opened with `resume`.
    public private(set) var completedImages: Set<String>
    /// How many lines the file held when it was opened with `resume` (after dropping a partial line).
    public let resumedLineCount: Int
    /// The bytes of a partial last line that opening with `resume` dropped (0 when none).
    public let droppedPartialBytes: Int

    private var descriptor: Int32
    /// Whether the file must be emptied before the first line (a regular file opened without
    /// `resume`; pipes and devices cannot be emptied and need not be).
    private var emptyBeforeFirstLine = false
    private let heldBytesAtOpen: Int

    /// Whether the file still holds lines written before this writer opened it without `resume`
    /// (no line written yet): a later `--resume` would count their images as done.
    public var keepsEarlierLines: Bool { emptyBeforeFirstLine && heldBytesAtOpen > 0 }

    /// Opens `url` for appending; with `resume`, reads what it holds first (see the type's summary).
    /// The file is locked (`flock`) while the writer is open: a second writer of the same file
    /// throws instead of interleaving its lines.
    public init(url: URL, resume: Bool) throws {
        self.url = url
        descriptor = open(url.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if descriptor < 0 {
            throw BatchError.io(file: url.path, detail: "cannot open for writing (\(String(cString: strerror(errno)))); check the folder exists and is writable")
        }
        var info = stat()
        let regular = fstat(descriptor, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
        if regular, flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let reason = errno == EWOULDBLOCK ? "another zoo run is writing it; let it finish or give another --json file"
                : "cannot lock it (\(String(cString: strerror(errno))))"
            _ = Foundation.close(descriptor)
            descriptor = -1
            throw BatchError.io(file: url.path, detail: reason)
        }
        var done = Set<String>()
        var lines = 0
        var dropped = 0
        if resume, regular {
            do {
                let scan = try JSONLinesWriter.scan(url)
                done = scan.images
                lines = scan.lineCount
                dropped = scan.partialByteCount
                // Cut in place: shrinking a file is one step, so a crash leaves the old or the new length.
                if dropped > 0, ftruncate(descriptor, off_t(scan.completeByteCount)) != 0 || fsync(descriptor) != 0 {
                    throw BatchError.io(file: url.path, detail: "cannot drop the unfinished last line (\(String(cString: strerror(errno)))); check the disk")
                }
            } catch {
                _ = Foundation.close(descriptor)   // and with it the lock
                descriptor = -1
                throw error
            }
        }
        completedImages = done
        resumedLineCount = lines
        droppedPartialBytes = dropped
        emptyBeforeFirstLine = !resume && regular
        heldBytesAtOpen = regular ? Int(info.st_size) : 0
    }

    deinit {
        if descriptor >= 0 { _ = Foundation.close(descriptor) }
    }

    /// Appends `line` (one JSON object, without a newline; one trailing newline is tolerated)
    /// as the result of `image`, and makes it durable.
    ///
    /// Throws `BatchError.badResultLine` when `line` is not one JSON object on one line whose
    /// `"image"` is `image`, and `BatchError.io` when writing fails.
    public func append(_ line: Data, image: String) throws {
        var body = line
        if body.last == 0x0A { body.removeLast() }
        if body.contains(0x0A) { throw BatchError.badResultLine(image: image, detail: "it spans several lines") }
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else {
            throw BatchError.badResultLine(image: image, detail: "not a JSON object")
        }
        guard let key = object["image"] as? String, key == image else {
            throw BatchError.badResultLine(image: image, detail: "its \"image\" is \(object["image"].map { "\($0)" } ?? "missing"), expected the input's path")
        }
        guard descriptor >= 0 else { throw BatchError.io(file: url.path, detail: "the JSON Lines file is closed") }
        body.append(0x0A)
        if emptyBeforeFirstLine {
            guard ftruncate(descriptor, 0) == 0 else {
                throw BatchError.io(file: url.path, detail: "cannot empty the file (\(String(cString: strerror(errno)))); check its permissions")
            }
            emptyBeforeFirstLine = false
        }
        try writeAll(body)
        completedImages.insert(image)
    }

    /// Closes the file; later `append`s throw.
    public func close() throws {
        guard descriptor >= 0 else { return }
        let status = Foundation.close(descriptor)
        descriptor = -1
        if status != 0 {
            throw BatchError.io(file: url.path, detail: "close failed (\(String(cString: strerror(errno)))); the last lines may be lost, check the disk")
        }
    }

    private func writeAll(_ bytes: Data) throws {
        let fd = descriptor
        let path = url.path
        try bytes.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < buffer.count {
                let n = write(fd, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw BatchError.io(file: path, detail: "write failed after \(offset) of \(buffer.count) bytes (\(String(cString: strerror(errno)))); check free space, then rerun with --resume")
                }
                offset += n
            }
        }
        // Pipes and terminals cannot be synced; that is fine, there is nothing to lose on disk.
        if fsync(fd) != 0, errno != EINVAL, errno != EROFS, errno != ENOTSUP {
            throw BatchError.io(file: path, detail: "fsync failed (\(String(cString: strerror(errno)))); check the disk, then rerun with --resume")
        }
    }

    /// What an existing file holds: the images of its complete lines and where they end.
    struct Scan {
        var images = Set<String>()
        var lineCount = 0
        /// Bytes up to and including the last newline.
        var completeByteCount = 0
        /// Bytes after the last newline.
        var partialByteCount = 0
    }

    /// Size of the pieces in which resume reads and copies the file (memory stays bounded).
    static let chunkSize = 1 << 22

    /// Reads the complete lines of the file at `url`, a chunk at a time; ignores blank lines and
    /// whatever follows the last newline.
    static func scan(_ url: URL) throws -> Scan {
        let file = url.path
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: url) } catch {
            throw BatchError.io(file: file, detail: "cannot read the file to resume (\(error.localizedDescription)); check its permissions")
        }
        defer { try? handle.close() }
        var scan = Scan()
        var lineNumber = 0
        var pending = Data()
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: chunkSize) ?? Data() } catch {
                throw BatchError.io(file: file, detail: "read failed after \(scan.completeByteCount) bytes (\(error.localizedDescription)); check the disk")
            }
            if chunk.isEmpty { break }
            pending.append(chunk)
            var start = pending.startIndex
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                lineNumber += 1
                let line = pending[start..<newline]
                start = newline + 1
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
                guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                    throw BatchError.corruptOutputLine(file: file, line: lineNumber, detail: "not a JSON object")
                }
                guard let image = object["image"] as? String else {
                    throw BatchError.corruptOutputLine(file: file, line: lineNumber, detail: "no \"image\" string")
                }
                scan.images.insert(image)
                scan.lineCount += 1
            }
            scan.completeByteCount += start - pending.startIndex
            pending = Data(pending[start...])
        }
        scan.partialByteCount = pending.count
        return scan
    }
}
