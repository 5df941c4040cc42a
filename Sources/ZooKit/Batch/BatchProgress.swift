import Foundation

/// A progress bar on stderr for a batch: images done of the total, rate in images per second and
/// time left, redrawn in place on one line and finished with a newline.
///
/// The bar shows only when stderr is a terminal and the run is not quiet; messages (one line per
/// failed image) always go to stderr, and while the bar shows they are printed above it.
public final class BatchProgress {
    /// Images to process in this run (after sharding and skipping those already done).
    public let total: Int
    /// Whether the bar is drawn.
    public let showsBar: Bool
    /// Images finished so far (successes and failures).
    public private(set) var done = 0
    /// Images that failed so far.
    public private(set) var failed = 0

    private let width: Int
    private let now: () -> Double
    private let write: (String) -> Void
    private var startTime: Double?
    private var lastDraw = -Double.infinity
    private var barVisible = false
    private var drawnState: DrawnState?

    private struct DrawnState: Equatable {
        var done: Int
        var failed: Int
    }

    /// A progress report for `total` images on stderr; no bar when `quiet` or stderr is not a terminal.
    public convenience init(total: Int, quiet: Bool = false) {
        let tty = isatty(STDERR_FILENO) == 1
        self.init(total: total, showsBar: tty && !quiet, width: BatchProgress.terminalWidth(), now: BatchProgress.monotonicSeconds) { text in
            FileHandle.standardError.write(Data(text.utf8))
        }
    }

    /// A progress report writing to `write`, for tests and other sinks; `now` gives seconds.
    public init(total: Int, showsBar: Bool, width: Int = 80, now: @escaping () -> Double, write: @escaping (String) -> Void) {
        self.total = total
        self.showsBar = showsBar
        self.width = max(width, 20)
        self.now = now
        self.write = write
    }

    /// Starts the clock and draws the empty bar.
    public func start() {
        startTime = now()
        draw(force: true)
    }

    /// Counts one finished image; redraws at most ten times a second.
    public func imageFinished(failed didFail: Bool = false) {
        if startTime == nil { startTime = now() }
        done += 1
        if didFail { failed += 1 }
        draw(force: done == total)
    }

    /// Prints `line` on stderr (above the bar when it shows).
    public func message(_ line: String) {
        if barVisible {
            write("\r\u{1B}[K" + line + "\n")
            barVisible = false
            draw(force: true)
        } else {
            write(line + "\n")
        }
    }

    /// Draws the final state and ends the bar's line.
    public func finish() {
        guard showsBar else { return }
        if drawnState != DrawnState(done: done, failed: failed) || !barVisible { draw(force: true) }
        if barVisible { write("\n") }
        barVisible = false
    }

    private func draw(force: Bool) {
        guard showsBar else { return }
        let t = now()
        guard force || t - lastDraw >= 0.1 else { return }
        lastDraw = t
        let elapsed = startTime.map { t - $0 } ?? 0
        let line = BatchProgress.render(done: done, total: total, failed: failed, elapsed: elapsed, width: width)
        write("\r" + line + "\u{1B}[K")
        barVisible = true
        drawnState = DrawnState(done: done, failed: failed)
    }

    /// One state of the bar, at most `width` characters:
    /// ` 37/120 [=======>           ] 2.41 img/s  ETA 0:34` (failures shown when there are some).
    public static func render(done: Int, total: Int, failed: Int = 0, elapsed: Double, width: Int) -> String {
        let digits = String(total).count
        let count = String(repeating: " ", count: max(0, digits - String(done).count)) + "\(done)/\(total)"
        let rate = elapsed > 0 && done > 0 ? Double(done) / elapsed : nil
        let rateText = rate.map { String(format: $0 < 10 ? "%.2f img/s" : "%.1f img/s", $0) } ?? "-- img/s"
        let etaText: String
        if done >= total {
            etaText = "took " + duration(elapsed)
        } else if let rate {
            etaText = "ETA " + duration(Double(total - done) / rate)
        } else {
            etaText = "ETA --:--"
        }
        let failText = failed > 0 ? "  \(failed) failed" : ""
        let tail = "  \(rateText)  \(etaText)\(failText)"
        let barWidth = width - count.count - tail.count - 3
        guard barWidth >= 5 else { return String((count + tail).prefix(width)) }
        let filled = total > 0 ? min(barWidth, barWidth * done / total) : barWidth
        var bar = String(repeating: "=", count: filled)
        if filled < barWidth {
            bar += ">" + String(repeating: " ", count: barWidth - filled - 1)
        }
        return "\(count) [\(bar)]\(tail)"
    }

    /// `m:ss`, or `h:mm:ss` from an hour on.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        let (h, m, sec) = (s / 3600, (s % 3600) / 60, s % 60)
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, sec) : String(format: "%d:%02d", m, sec)
    }

    static func monotonicSeconds() -> Double {
        Double(DispatchTime.now().uptimeNanoseconds) / 1e9
    }

    /// The terminal's width in columns from `TIOCGWINSZ`, else `COLUMNS`, else 80.
    static func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 {
            return Int(size.ws_col)
        }
        if let text = ProcessInfo.processInfo.environment["COLUMNS"], let columns = Int(text), columns > 0 {
            return columns
        }
        return 80
    }
}
