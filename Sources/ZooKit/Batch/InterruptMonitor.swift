import Dispatch
import Foundation

#if canImport(Glibc)
private typealias SignalHandler = sighandler_t
#else
private typealias SignalHandler = sig_t
#endif

/// Turns Ctrl-C (SIGINT) into a flag that a batch checks between images: the first SIGINT asks
/// the run to stop after the image in progress, a second one exits at once (status 130; every
/// finished line is already on disk).
///
/// While started, SIGINT's default action is replaced; `stop()` (or `deinit`) puts back the
/// previous disposition. Only one monitor should be started at a time in a process.
public final class InterruptMonitor: @unchecked Sendable {
    private let lock = NSLock()
    private var signals = 0
    private var source: DispatchSourceSignal?
    private var previous: SignalHandler?
    private let notice: String

    /// A monitor that prints `notice` on stderr at the first SIGINT.
    public init(notice: String = "zoo: interrupted, stopping after the current image (Ctrl-C again to abort)") {
        self.notice = notice
    }

    deinit { stop() }

    /// Whether SIGINT arrived since `start()`.
    public var isInterrupted: Bool {
        lock.lock(); defer { lock.unlock() }
        return signals > 0
    }

    /// Starts catching SIGINT.
    public func start() {
        lock.lock(); defer { lock.unlock() }
        guard source == nil else { return }
        // The kernel must not kill us: dispatch delivers the signal to the source instead.
        previous = signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [weak self] in self?.received() }
        source.resume()
        self.source = source
    }

    /// Stops catching SIGINT and restores its previous disposition.
    public func stop() {
        lock.lock(); defer { lock.unlock() }
        guard let source else { return }
        source.cancel()
        self.source = nil
        _ = signal(SIGINT, previous ?? SIG_DFL)
        previous = nil
    }

    private func received() {
        lock.lock()
        signals += 1
        let count = signals
        lock.unlock()
        if count == 1 {
            FileHandle.standardError.write(Data(("\n" + notice + "\n").utf8))
        } else {
            FileHandle.standardError.write(Data("\nzoo: aborted; finished images are saved, rerun with --resume\n".utf8))
            exit(130)
        }
    }
}
