import Foundation
import Testing
@testable import ZooKit

@Suite("BatchProgress")
struct BatchProgressTests {
    /// A fake clock and a record of everything written.
    final class Sink {
        var time = 0.0
        var text = ""
    }

    static func progress(total: Int, showsBar: Bool, sink: Sink, width: Int = 80) -> BatchProgress {
        BatchProgress(total: total, showsBar: showsBar, width: width, now: { sink.time }, write: { sink.text += $0 })
    }

    @Test func renderShowsCountRateAndETA() {
        let start = BatchProgress.render(done: 0, total: 10, elapsed: 0, width: 80)
        #expect(start.hasPrefix(" 0/10 ["))
        #expect(start.contains("-- img/s") && start.contains("ETA --:--"))
        let half = BatchProgress.render(done: 5, total: 10, elapsed: 10, width: 80)
        #expect(half.contains("0.50 img/s") && half.contains("ETA 0:10"))
        let fast = BatchProgress.render(done: 300, total: 1000, failed: 2, elapsed: 12, width: 80)
        #expect(fast.contains("25.0 img/s") && fast.contains("ETA 0:28") && fast.contains("2 failed"))
        let end = BatchProgress.render(done: 10, total: 10, elapsed: 75, width: 80)
        #expect(end.contains("took 1:15") && end.contains("[" + String(repeating: "=", count: 10)))
    }

    @Test func barFillsInProportion() throws {
        let line = BatchProgress.render(done: 1, total: 4, elapsed: 1, width: 80)
        let open = try #require(line.firstIndex(of: "[")), close = try #require(line.firstIndex(of: "]"))
        let bar = line[line.index(after: open)..<close]
        #expect(bar.filter { $0 == "=" }.count == bar.count / 4)
        #expect(bar.contains(">"))
    }

    @Test(arguments: [20, 40, 61, 80, 200])
    func renderFitsTheWidth(width: Int) {
        for done in [0, 1, 999, 1000] {
            #expect(BatchProgress.render(done: done, total: 1000, failed: 3, elapsed: 3600 * 5, width: width).count <= width)
        }
    }

    @Test func durationsReadAsClockTimes() {
        #expect(BatchProgress.duration(0) == "0:00")
        #expect(BatchProgress.duration(59.6) == "1:00")
        #expect(BatchProgress.duration(3725) == "1:02:05")
        #expect(BatchProgress.duration(.infinity) == "--:--")
    }

    @Test func withoutBarOnlyMessagesAreWritten() {
        let sink = Sink()
        let progress = Self.progress(total: 3, showsBar: false, sink: sink)
        progress.start()
        progress.imageFinished()
        progress.imageFinished(failed: true)
        progress.message("b.jpg: cannot decode")
        progress.imageFinished()
        progress.finish()
        #expect(sink.text == "b.jpg: cannot decode\n")
        #expect(progress.done == 3 && progress.failed == 1)
    }

    @Test func barIsRedrawnInPlaceAndEndsWithANewline() {
        let sink = Sink()
        let progress = Self.progress(total: 3, showsBar: true, sink: sink)
        progress.start()
        sink.time = 1
        progress.imageFinished()
        sink.time = 2
        progress.message("b.jpg: cannot decode")
        progress.imageFinished(failed: true)
        sink.time = 3
        progress.imageFinished()
        progress.finish()
        // Every redraw returns to the line's start; the message clears the bar first and gets its own line.
        #expect(sink.text.hasPrefix("\r0/3 ["))
        #expect(sink.text.components(separatedBy: "3/3 [").count == 2)
        #expect(sink.text.contains("\r\u{1B}[Kb.jpg: cannot decode\n\r"))
        #expect(sink.text.contains("3/3 ["))
        #expect(sink.text.hasSuffix("\u{1B}[K\n"))
        #expect(sink.text.filter { $0 == "\n" }.count == 2)
    }

    @Test func redrawsAreThrottled() {
        let sink = Sink()
        let progress = Self.progress(total: 1000, showsBar: true, sink: sink)
        progress.start()
        for i in 0..<999 {
            sink.time = Double(i) * 0.001
            progress.imageFinished()
        }
        let redraws = sink.text.filter { $0 == "\r" }.count
        #expect(redraws >= 2 && redraws <= 12)
    }
}
