import Foundation

/// Time spent per layer, when enabled (`zoo-bench engine --layers`): for finding where an image's
/// time goes. Off by default; recording takes a lock per layer call.
public final class LayerProfile: @unchecked Sendable {
    public static let shared = LayerProfile()
    private let lock = NSLock()
    private var seconds: [String: Double] = [:]
    private var calls: [String: Int] = [:]
    /// Whether layers record their times.
    public var enabled = false

    /// Runs `body`, adding its time to `name` when enabled.
    @inline(__always)
    func measure<T>(_ name: @autoclosure () -> String, _ body: () throws -> T) rethrows -> T {
        guard enabled else { return try body() }
        let start = DispatchTime.now().uptimeNanoseconds
        let result = try body()
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let key = name()
        lock.lock()
        seconds[key, default: 0] += elapsed
        calls[key, default: 0] += 1
        lock.unlock()
        return result
    }

    /// Recorded layers, slowest first: name, total seconds, calls.
    public func report() -> [(name: String, seconds: Double, calls: Int)] {
        lock.lock()
        defer { lock.unlock() }
        return seconds.map { ($0.key, $0.value, calls[$0.key] ?? 0) }.sorted { $0.seconds > $1.seconds }
    }

    /// Forgets what was recorded.
    public func reset() {
        lock.lock()
        seconds = [:]
        calls = [:]
        lock.unlock()
    }
}
