import Foundation

/// Progress lines on stderr, one per file, redrawn in place (bytes, rate, ETA). Used only when
/// stderr is a terminal and `--quiet` is off; thread-safe.
public final class ProgressBoard: @unchecked Sendable {
    private struct Line {
        var name: String
        var done: Int64 = 0
        var total: Int64?
        var start = Date()
        var startBytes: Int64?
        var finished = false
    }

    private let lock = NSLock()
    private var lines: [Line] = []
    private var drawn = 0
    private var lastDraw = Date.distantPast
    private let write: (String) -> Void

    /// A board that writes to stderr.
    public convenience init() {
        self.init { FileHandle.standardError.write(Data($0.utf8)) }
    }

    /// A board that writes through `write` (tests).
    public init(write: @escaping (String) -> Void) {
        self.write = write
    }

    /// True when stderr is a terminal (the only time progress is drawn).
    public static var stderrIsTerminal: Bool { isatty(2) == 1 }

    /// Adds a line for `name`; returns its handle.
    public func addLine(_ name: String) -> Int {
        lock.lock(); defer { lock.unlock() }
        lines.append(Line(name: name))
        redraw(force: true)
        return lines.count - 1
    }

    /// Sets a line's bytes done and total (nil: unknown).
    public func update(_ line: Int, done: Int64, total: Int64?) {
        lock.lock(); defer { lock.unlock() }
        guard lines.indices.contains(line) else { return }
        if lines[line].startBytes == nil {
            lines[line].startBytes = done
            lines[line].start = Date()
        }
        lines[line].done = done
        lines[line].total = total
        redraw(force: false)
    }

    /// Marks a line finished and draws it a last time.
    public func finish(_ line: Int) {
        lock.lock(); defer { lock.unlock() }
        guard lines.indices.contains(line) else { return }
        lines[line].finished = true
        redraw(force: true)
    }

    private func redraw(force: Bool) {
        let now = Date()
        guard force || now.timeIntervalSince(lastDraw) >= 0.1 else { return }
        lastDraw = now
        var out = drawn > 0 ? "\u{1B}[\(drawn)A" : ""
        for line in lines { out += "\r\u{1B}[2K" + Self.render(line, now: now) + "\n" }
        drawn = lines.count
        write(out)
    }

    private static func render(_ line: Line, now: Date) -> String {
        let elapsed = max(0.001, now.timeIntervalSince(line.start))
        let rate = Double(line.done - (line.startBytes ?? line.done)) / elapsed
        var text = "\(line.name)  \(formatBytes(line.done))"
        if let total = line.total, total > 0 {
            text += " / \(formatBytes(total)) (\(Int(Double(line.done) * 100 / Double(total)))%)"
        }
        if rate > 0 { text += "  \(formatBytes(Int64(rate)))/s" }
        if line.finished {
            text += "  done"
        } else if let total = line.total, rate > 0, total > line.done {
            let eta = Int(Double(total - line.done) / rate)
            text += "  ETA \(eta / 60):\(String(format: "%02d", eta % 60))"
        }
        return text
    }
}

/// `1.5 MB`-style sizes (decimal units).
public func formatBytes(_ bytes: Int64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"]
    var value = Double(bytes), unit = 0
    while value >= 1000, unit < units.count - 1 { value /= 1000; unit += 1 }
    return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
}
