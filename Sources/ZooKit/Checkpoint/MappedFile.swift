import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Read-only memory maps of checkpoint files and atomic writes of new ones.
enum MappedFile {
    /// The contents of `url`, memory-mapped read-only; the mapping lives as long as the returned
    /// `Data` (and every slice of it) does. `sequential` asks the kernel to read ahead, for
    /// callers that will touch every byte (conversion).
    static func map(_ url: URL, sequential: Bool = false) throws -> Data {
        let path = url.path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw CheckpointError.io(file: path, detail: "cannot open for reading: \(errnoText()); check the path and permissions")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw CheckpointError.io(file: path, detail: "fstat failed: \(errnoText())")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw CheckpointError.io(file: path, detail: "not a regular file; give the path of a checkpoint file")
        }
        let size = Int(info.st_size)
        if size == 0 { return Data() }
        guard let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), address != MAP_FAILED else {
            throw CheckpointError.io(file: path, detail: "mmap of \(size) bytes failed: \(errnoText())")
        }
        if sequential {
            _ = madvise(address, size, MADV_SEQUENTIAL)
            _ = madvise(address, size, MADV_WILLNEED)
        }
        return Data(bytesNoCopy: address, count: size, deallocator: .custom { pointer, count in
            _ = munmap(pointer, count)
        })
    }

    /// Writes a file at `url` by calling `body` with a temporary file descriptor in the same
    /// folder, flushing it to disk (`fsync`), then renaming it over `url`; on any error the
    /// temporary file is removed, so a failed write, or a crash, never leaves a half-written file.
    static func writeAtomically(to url: URL, _ body: (_ write: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let path = url.path
        let (temporary, fd) = try createTemporary(beside: url, flags: O_WRONLY)
        var closed = false
        do {
            try body { buffer in
                var offset = 0
                while offset < buffer.count {
                    guard let base = buffer.baseAddress else { return }
                    let written = systemWrite(fd, base + offset, buffer.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        throw CheckpointError.io(file: path, detail: "write failed after \(offset) bytes: \(errnoText()); check free disk space")
                    }
                    offset += written
                }
            }
            // On disk before it takes the real name: a crash never leaves a file there whose
            // blocks were not written.
            if fsync(fd) != 0, errno != EINVAL, errno != EROFS, errno != ENOTSUP {
                throw CheckpointError.io(file: path, detail: "fsync failed: \(errnoText()); check the disk")
            }
            closed = true
            guard close(fd) == 0 else {
                throw CheckpointError.io(file: path, detail: "close failed: \(errnoText()); check free disk space")
            }
            guard rename(temporary, path) == 0 else {
                throw CheckpointError.io(file: path, detail: "rename from \(temporary) failed: \(errnoText())")
            }
        } catch {
            if !closed { close(fd) }
            unlink(temporary)
            throw error
        }
    }

    /// A file made by `createMapped`: written and mapped, but still under its temporary name.
    /// `commit` puts it in place once its bytes are on disk; until then a crash leaves only a
    /// temporary file, never a file under the real name whose blocks were not written.
    struct PendingFile: Sendable {
        /// The temporary file's path.
        let temporary: String
        /// Where `commit` puts it.
        let path: String
        let fd: Int32

        /// Flushes the file's bytes to disk (`fdatasync`), renames it to `path` and closes it;
        /// on failure removes it instead (whoever mapped it keeps the mapping) and returns what
        /// went wrong, naming the file.
        @discardableResult
        func commit() -> String? {
            defer { close(fd) }
            var failure: String?
            if fdatasync(fd) != 0, errno != EINVAL, errno != EROFS, errno != ENOTSUP {
                failure = "\(path): fdatasync failed: \(errnoText()); check free disk space"
            } else if rename(temporary, path) != 0 {
                failure = "\(path): rename from \(temporary) failed: \(errnoText())"
            }
            if failure != nil { unlink(temporary) }
            return failure
        }
    }

    /// Creates a file of `size` bytes beside `url` under a temporary name (its blocks reserved
    /// first, so a full disk fails here rather than at a page fault), maps it shared and lets
    /// `fill` write the bytes in place. Returns the mapping, which lives as long as the returned
    /// `Data` (the caller reads the bytes it wrote without a copy), and the file to `commit`.
    /// On any error the temporary file is removed.
    static func createMapped(at url: URL, size: Int, _ fill: (UnsafeMutableRawPointer) throws -> Void) throws -> (data: Data, pending: PendingFile) {
        let path = url.path
        let (temporary, fd) = try createTemporary(beside: url, flags: O_RDWR)
        var mapping: UnsafeMutableRawPointer?
        do {
            let reserved = posix_fallocate(fd, 0, off_t(size))
            guard reserved == 0 else {
                throw CheckpointError.io(file: path, detail: "cannot reserve \(size) bytes: \(String(cString: strerror(reserved))); check free disk space")
            }
            guard let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), address != MAP_FAILED else {
                throw CheckpointError.io(file: path, detail: "mmap of \(size) bytes failed: \(errnoText())")
            }
            mapping = address
            try fill(address)
            let data = Data(bytesNoCopy: address, count: size, deallocator: .custom { pointer, count in
                _ = munmap(pointer, count)
            })
            return (data, PendingFile(temporary: temporary, path: path, fd: fd))
        } catch {
            if let mapping { _ = munmap(mapping, size) }
            close(fd)
            unlink(temporary)
            throw error
        }
    }

    /// A new, uniquely named hidden file in `url`'s folder, opened with `flags` (`O_WRONLY` or
    /// `O_RDWR`): its path and descriptor.
    private static func createTemporary(beside url: URL, flags: Int32) throws -> (path: String, fd: Int32) {
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp").path
        let fd = open(temporary, flags | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw CheckpointError.io(file: url.path, detail: "cannot create \(temporary): \(errnoText()); check that the folder exists and is writable")
        }
        return (temporary, fd)
    }

    static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}

/// `write(2)`, named apart from the closure parameters above.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    return Glibc.write(fd, buffer, count)
    #elseif canImport(Musl)
    return Musl.write(fd, buffer, count)
    #else
    return Darwin.write(fd, buffer, count)
    #endif
}
