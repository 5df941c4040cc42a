import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be read, in words a user can act on ("no such file", "a folder, not a
/// file", "permission denied"), for the error that names the file.
struct ReadFailure: Error {
    let reason: String
}

/// Reading a whole small file (an index, a config, an image) with a plain reason when it fails.
/// Foundation's own messages say "You don't have permission" for a pipe and
/// "NSCocoaErrorDomain error 256" for a folder.
enum ReadableFile {
    /// The bytes of the file at `url`. Anything but a regular file is refused before it is
    /// opened (a pipe would block, or hand over whatever its writer sends).
    static func contents(of url: URL) throws(ReadFailure) -> Data {
        let path = url.path
        var info = stat()
        guard stat(path, &info) == 0 else { throw ReadFailure(reason: reason(errno)) }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw ReadFailure(reason: "a folder, not a file")
        default: throw ReadFailure(reason: "not a regular file (a device, socket or pipe)")
        }
        do {
            return try Data(contentsOf: url)
        } catch {
            if access(path, R_OK) != 0 { throw ReadFailure(reason: reason(errno)) }
            let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
            if let underlying, underlying.domain == NSPOSIXErrorDomain { throw ReadFailure(reason: reason(Int32(underlying.code))) }
            throw ReadFailure(reason: (error as NSError).localizedDescription)
        }
    }

    /// The text of the file at `url`, which must be UTF-8.
    static func text(of url: URL) throws(ReadFailure) -> String {
        guard let text = String(data: try contents(of: url), encoding: .utf8) else { throw ReadFailure(reason: "not UTF-8 text") }
        return text
    }

    /// "no such file", "permission denied", or else `strerror(code)` with its first letter
    /// lowercased, for the middle of a message.
    private static func reason(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file"
        case EACCES: return "permission denied"
        default:
            let text = String(cString: strerror(code))
            return text.prefix(1).lowercased() + text.dropFirst()
        }
    }
}
