import Foundation

/// Ctrl-C during a fetch: instead of dying mid-write, zoo notes the signal and each transfer's
/// progress callback stops libcurl cleanly, so the partial file stays whole up to its last byte.
public enum Interrupts {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var flag = false
    nonisolated(unsafe) private static var source: DispatchSourceSignal?

    /// Routes SIGINT to the flag transfers poll (idempotent). A second Ctrl-C exits at once.
    public static func installSIGINTHandler() {
        lock.lock()
        defer { lock.unlock() }
        guard source == nil else { return }
        signal(SIGINT, SIG_IGN)
        let s = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        s.setEventHandler {
            if isInterrupted { exit(130) }
            lock.lock()
            flag = true
            lock.unlock()
        }
        s.resume()
        source = s
    }

    /// True once SIGINT has arrived.
    public static var isInterrupted: Bool {
        lock.lock()
        defer { lock.unlock() }
        return flag
    }
}
