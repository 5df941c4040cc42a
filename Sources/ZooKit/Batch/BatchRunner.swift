import Foundation

/// What a batch run did.
public struct BatchSummary: Sendable, Equatable {
    /// Images in this shard of the batch.
    public var selected: Int
    /// Images skipped because the output already held their line (`resume`).
    public var skipped: Int
    /// Images whose line this run wrote and that did not fail after it.
    public var succeeded: Int
    /// Images that failed (each reported on stderr), including those whose line was written before
    /// a later step for them failed (`BatchRunner.FailedAfterResult`).
    public var failed: Int
    /// Whether Ctrl-C stopped the run before every image was tried.
    public var interrupted: Bool

    /// Images neither done nor failed: left for a rerun with `resume`.
    public var remaining: Int { selected - skipped - succeeded - failed }

    public init(selected: Int, skipped: Int, succeeded: Int, failed: Int, interrupted: Bool) {
        self.selected = selected
        self.skipped = skipped
        self.succeeded = succeeded
        self.failed = failed
        self.interrupted = interrupted
    }
}

/// Runs one computation per image over a batch: sharding, skipping images already done, one JSON
/// line written per image as it finishes, a progress bar, per-image errors that do not stop the
/// batch, and Ctrl-C that stops it between images.
public enum BatchRunner {
    /// Thrown by a batch's `body` when the image's result is complete but a later step for it
    /// failed (its picture could not be written): the runner still writes `line`, then reports
    /// `failure` and counts the image as failed. `--resume` counts the image as done, since its
    /// line is in the file.
    public struct FailedAfterResult: Error, CustomStringConvertible {
        /// The image's result line, as `body` returns it when nothing fails.
        public var line: Data
        /// What failed after the result was made; its description is the message.
        public var failure: Error

        /// A failure that still has its result `line`.
        public init(line: Data, failure: Error) {
            self.line = line
            self.failure = failure
        }

        public var description: String { String(describing: failure) }
    }

    /// Runs `body` on this shard's images not yet in `output`, appending each returned line.
    ///
    /// - Parameters:
    ///   - images: the whole batch in its deterministic order (`ImageInputs.expand`).
    ///   - shard: which part of the batch this process takes.
    ///   - resume: keep `output` and skip the images it holds; otherwise start it empty.
    ///   - output: the JSON Lines file.
    ///   - quiet: no progress bar (errors still go to stderr).
    ///   - handleInterrupts: catch Ctrl-C to stop after the current image.
    ///   - body: one image's result as one JSON object whose `"image"` is the input's `path`.
    ///     A thrown error is reported as `path: error` on stderr and the batch goes on; a thrown
    ///     `FailedAfterResult` has its line written first.
    /// - Returns: the counts; the caller exits non-zero when `failed > 0` or `interrupted`.
    /// - Throws: `BatchError` when the output cannot be opened, read or written (the batch stops).
    public static func run(
        images: [ImageInput], shard: Shard = .all, resume: Bool, output: URL,
        quiet: Bool = false, handleInterrupts: Bool = true,
        body: (ImageInput) throws -> Data
    ) throws -> BatchSummary {
        let writer = try JSONLinesWriter(url: output, resume: resume)
        if writer.droppedPartialBytes > 0 {
            FileHandle.standardError.write(Data("zoo: \(displayPath(output.path)): dropped an unfinished last line (\(writer.droppedPartialBytes) bytes) left by an interrupted run; its image runs again\n".utf8))
        }
        let monitor = handleInterrupts ? InterruptMonitor() : nil
        monitor?.start()
        defer { monitor?.stop() }
        let summary = try run(
            images: images, shard: shard, writer: writer,
            progress: { BatchProgress(total: $0, quiet: quiet) },
            shouldStop: { monitor?.stopRequested ?? false },
            body: body
        )
        if summary.interrupted { monitor?.noteSilentStop() }
        if writer.keepsEarlierLines {
            FileHandle.standardError.write(Data("zoo: \(displayPath(output.path)) still holds an earlier run's lines (this run wrote none); --resume would count their images as done\n".utf8))
        }
        try writer.close()
        return summary
    }

    /// The loop of `run`, with its collaborators given: for tests and callers with their own
    /// writer, progress sink or stop condition (checked after each image).
    public static func run(
        images: [ImageInput], shard: Shard, writer: JSONLinesWriter,
        progress makeProgress: (_ total: Int) -> BatchProgress,
        shouldStop: () -> Bool,
        body: (ImageInput) throws -> Data
    ) throws -> BatchSummary {
        let selected = shard.select(images)
        // Done when the file holds its path, or another spelling of the same file (`./a.jpg`, a
        // symbolic link), as `ImageInputs` counts duplicates.
        let doneFiles = Set(writer.completedImages.map { ImageInput.fileKey(ImageInput(path: $0).url) })
        let todo = selected.filter { !writer.completedImages.contains($0.path) && !doneFiles.contains(ImageInput.fileKey($0.url)) }
        var summary = BatchSummary(selected: selected.count, skipped: selected.count - todo.count, succeeded: 0, failed: 0, interrupted: false)
        let progress = makeProgress(todo.count)
        progress.start()
        defer { progress.finish() }
        for input in todo {
            if shouldStop() { summary.interrupted = true; break }
            let line: Data
            var lateFailure: Error?
            do {
                line = try body(input)
            } catch let error as FailedAfterResult {
                line = error.line
                lateFailure = error.failure
            } catch {
                report(error, for: input, summary: &summary, progress: progress)
                continue
            }
            do {
                try writer.append(line, image: input.path)
            } catch let error as BatchError {
                // A rejected line is this image's failure; a write error stops the batch.
                guard case .badResultLine = error else { throw error }
                report(error, for: input, summary: &summary, progress: progress)
                continue
            }
            if let lateFailure {
                report(lateFailure, for: input, summary: &summary, progress: progress)
                continue
            }
            summary.succeeded += 1
            progress.imageFinished()
        }
        return summary
    }

    private static func report(_ error: Error, for input: ImageInput, summary: inout BatchSummary, progress: BatchProgress) {
        summary.failed += 1
        progress.imageFinished(failed: true)
        progress.message(failureMessage(error, for: input))
    }

    /// The one line that reports `error` for `input`: `path: error`, the path with its control
    /// characters (a newline, a terminal escape) shown as escapes (`displayText`).
    public static func failureMessage(_ error: Error, for input: ImageInput) -> String {
        oneLine("\(displayPath(input.path)): \(error)")
    }

    /// `text` with line breaks turned into spaces and other control characters escaped
    /// (`displayText`), so each failure is one line of stderr.
    static func oneLine(_ text: String) -> String {
        displayText(String(text.map { $0.isNewline ? " " : $0 }), limit: Int.max)
    }
}
