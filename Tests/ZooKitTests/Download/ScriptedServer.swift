import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A loopback HTTP server whose answers each test scripts per path, for what the fault server
/// (Tests/Tools/fault_server.py) has no mode for: ETag / Last-Modified and If-Range, a file that
/// changes between requests, statuses that carry no file (204, 3xx without Location), a short 206,
/// a 416 with `*/size`. It logs every request's headers. One per test process, on 127.0.0.1 only.
final class ScriptedServer: @unchecked Sendable {
    /// One request the server saw.
    struct Request: Sendable {
        var path: String
        /// Header names lowercased.
        var headers: [String: String]
        var range: String? { headers["range"] }
        var ifRange: String? { headers["if-range"] }
        /// N of `Range: bytes=N-`.
        var rangeStart: Int? { range.flatMap { Int($0.replacingOccurrences(of: "bytes=", with: "").split(separator: "-").first ?? "") } }
    }

    /// One answer: status, headers (Content-Length is added unless given, or the status has no body),
    /// the body, and optionally how many body bytes to send before closing the connection.
    struct Response: Sendable {
        var status: Int
        var headers: [(String, String)] = []
        var body = Data()
        var cutAfter: Int?
    }

    /// Answers the `count`-th (1-based) request for a path.
    typealias Handler = @Sendable (_ request: Request, _ count: Int) -> Response

    static let shared: ScriptedServer? = try? ScriptedServer()

    /// A client that hung up must not kill the test process with SIGPIPE.
    #if canImport(Glibc)
    private static let noSignal = Int32(MSG_NOSIGNAL)
    #else
    private static let noSignal: Int32 = 0
    #endif

    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var handlers: [String: Handler] = [:]
    private var counts: [String: Int] = [:]
    private var log: [Request] = []

    private init() throws {
        #if canImport(Glibc)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard bound == 0, listen(fd, 64) == 0, named == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [unowned self] in self.acceptLoop() }
        thread.start()
    }

    /// The URL of `path` (which starts with "/").
    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Answers requests for `path` with `handler`.
    func route(_ path: String, _ handler: @escaping Handler) {
        lock.lock()
        handlers[path] = handler
        lock.unlock()
    }

    /// Every request for `path` so far, in order.
    func requests(_ path: String) -> [Request] {
        lock.lock()
        defer { lock.unlock() }
        return log.filter { $0.path == path }
    }

    /// A file served the way a static server does: Range (`bytes=N-`), If-Range against `etag` or
    /// `lastModified` (`honourIfRange`: false sends the range whatever If-Range says), 416 with `*/size`.
    static func file(_ data: Data, etag: String? = nil, lastModified: String? = nil, request: Request,
                     honourIfRange: Bool = true) -> Response {
        var headers: [(String, String)] = []
        if let etag { headers.append(("ETag", etag)) }
        if let lastModified { headers.append(("Last-Modified", lastModified)) }
        if let start = request.rangeStart {
            let validatorMatches = request.ifRange.map { $0 == etag || $0 == lastModified } ?? true
            if validatorMatches || !honourIfRange {
                if start >= data.count {
                    return Response(status: 416, headers: headers + [("Content-Range", "bytes */\(data.count)")])
                }
                return Response(status: 206, headers: headers + [("Content-Range", "bytes \(start)-\(data.count - 1)/\(data.count)")],
                                body: data.subdata(in: start..<data.count))
            }
        }
        return Response(status: 200, headers: headers, body: data)
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            let thread = Thread { [unowned self] in self.serve(client) }
            thread.start()
        }
    }

    private func serve(_ client: Int32) {
        defer { close(client) }
        var head = Data()
        var byte = [UInt8](repeating: 0, count: 4096)
        while !head.contains("\r\n\r\n".data(using: .utf8) ?? Data()) {
            let n = read(client, &byte, byte.count)
            if n <= 0 { return }
            head.append(contentsOf: byte[0..<n])
        }
        let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
        let target = lines.first?.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let request = Request(path: target, headers: headers)
        lock.lock()
        log.append(request)
        counts[target, default: 0] += 1
        let count = counts[target] ?? 1
        let handler = handlers[target]
        lock.unlock()
        let response = handler?(request, count) ?? Response(status: 404)
        var text = "HTTP/1.1 \(response.status) Scripted\r\nConnection: close\r\n"
        let bodiless = response.status == 204 || response.status == 304
        if !bodiless, !response.headers.contains(where: { $0.0.lowercased() == "content-length" }) {
            text += "Content-Length: \(response.body.count)\r\n"
        }
        for (name, value) in response.headers { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        var out = Data(text.utf8)
        if !bodiless { out.append(response.body.prefix(response.cutAfter ?? response.body.count)) }
        out.withUnsafeBytes { raw in
            var sent = 0
            while sent < raw.count, let base = raw.baseAddress {
                let n = send(client, base + sent, raw.count - sent, Self.noSignal)
                if n <= 0 { return }
                sent += n
            }
        }
    }
}
