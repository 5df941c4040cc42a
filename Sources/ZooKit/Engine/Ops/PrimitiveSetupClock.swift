import Foundation

/// Time spent creating oneDNN primitives and preparing their weights (reorders into the
/// primitives' layouts, Winograd transforms, cache reads): the part of a model's start-up that
/// happens at the first image of a shape. Always on; it is read by `zoo-bench engine`, which
/// reports start-up as the model's build time plus this.
///
/// Plans created on two threads at once both count, so the figure can exceed the wall time.
public final class PrimitiveSetupClock: @unchecked Sendable {
    public static let shared = PrimitiveSetupClock()
    private let lock = NSLock()
    private var total: Double = 0

    /// Seconds recorded since the last `reset`.
    public var seconds: Double {
        lock.lock()
        defer { lock.unlock() }
        return total
    }

    /// Forgets what was recorded.
    public func reset() {
        lock.lock()
        total = 0
        lock.unlock()
    }

    /// Runs `body`, adding its time.
    func measure<T>(_ body: () throws -> T) rethrows -> T {
        let start = DispatchTime.now().uptimeNanoseconds
        defer {
            let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            lock.lock()
            total += elapsed
            lock.unlock()
        }
        return try body()
    }
}
