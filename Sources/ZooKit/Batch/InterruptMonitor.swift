import Foundation

#if canImport(Glibc)
private typealias SignalHandler = sighandler_t
#else
private typealias SignalHandler = sig_t
#endif

/// SIGINTs received since the monitor started. Written by the signal handler, so it is a plain
/// C integer with a constant initial value: no allocation, no lazy initialisation in the handler.
private nonisolated(unsafe) var interruptCount: sig_atomic_t = 0

/// Whether the running monitor's batch keeps finished images for `--resume` (1) or not (0):
/// which notice the handler prints on the second SIGINT. Set before the handler is installed.
private nonisolated(unsafe) var interruptResumable: sig_atomic_t = 1

/// The SIGINT handler: async-signal-safe (a store, `write(2)` of a static string, `_exit(2)`).
private func handleInterrupt(_ signal: Int32) {
    interruptCount += 1
    if interruptCount == 1 {
        let notice: StaticString = "\nzoo: interrupted, stopping after the current image (Ctrl-C again to abort)\n"
        _ = write(STDERR_FILENO, notice.utf8Start, notice.utf8CodeUnitCount)
    } else {
        let notice: StaticString = interruptResumable != 0
            ? "\nzoo: aborted; finished images are saved, rerun with --resume\n"
            : "\nzoo: aborted\n"
        _ = write(STDERR_FILENO, notice.utf8Start, notice.utf8CodeUnitCount)
        _exit(130)
    }
}

/// Turns Ctrl-C (SIGINT) into a flag that a batch checks between images: the first SIGINT asks
/// the run to stop after the image in progress, a second one exits at once (status 130; every
/// finished line is already on disk).
///
/// A signal handler is process-wide: while started, the monitor owns SIGINT, and `stop()` (or
/// `deinit`) puts back the previous handler. Start one monitor at a time.
///
/// (Not a `DispatchSource`: on Linux it sees a SIGINT only when the kernel happens to deliver it
/// to the dispatch thread that blocks it, and the main thread would drop it.)
public final class InterruptMonitor: @unchecked Sendable {
    private let lock = NSLock()
    private var previous: SignalHandler?
    private var started = false
    private let resumable: Bool

    /// A monitor, not yet catching SIGINT. `resumable`: whether finished images are kept for
    /// `--resume` (a JSON Lines batch), which the notice of a second Ctrl-C says.
    public init(resumable: Bool = true) {
        self.resumable = resumable
    }

    deinit { stop() }

    /// Whether SIGINT arrived since `start()`.
    public var isInterrupted: Bool {
        interruptCount > 0
    }

    /// Whether the batch should stop after the current image: SIGINT reached this monitor, or
    /// `Interrupts`' flag (a zoo id's download routes SIGINT there first, and its dispatch source
    /// can take a Ctrl-C before this monitor's handler sees it).
    public var stopRequested: Bool {
        isInterrupted || Interrupts.isInterrupted
    }

    /// After a batch stopped on `stopRequested`: says so on stderr when only `Interrupts` saw the
    /// Ctrl-C (its handler, unlike this monitor's, prints nothing).
    public func noteSilentStop() {
        guard stopRequested, !isInterrupted else { return }
        FileHandle.standardError.write(Data("zoo: interrupted, stopped after the current image\n".utf8))
    }

    /// Starts catching SIGINT.
    public func start() {
        lock.lock(); defer { lock.unlock() }
        guard !started else { return }
        interruptCount = 0
        interruptResumable = resumable ? 1 : 0
        previous = signal(SIGINT, handleInterrupt)
        started = true
    }

    /// Stops catching SIGINT and restores the previous handler.
    public func stop() {
        lock.lock(); defer { lock.unlock() }
        guard started else { return }
        _ = signal(SIGINT, previous ?? SIG_DFL)
        previous = nil
        started = false
    }
}
