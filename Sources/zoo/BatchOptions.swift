import ArgumentParser
import Foundation
import ZooKit

/// `--shard K/N`, `--resume` and `--quiet`: the options of `zoo run` over many images.
/// (The lead includes this group in RunCommand with `@OptionGroup var batch: BatchOptions`.)
struct BatchOptions: ParsableArguments {
    @Option(name: .customLong("shard"), help: ArgumentHelp(
        "Process only shard K of N (0-based, 0 <= K < N): every N-th image of the sorted list, starting at the K-th. Give each machine its own K and its own --json file; see docs/batch.md for Slurm and Kubernetes.",
        valueName: "K/N"))
    var shardText: String?

    @Flag(name: .customLong("resume"), help: ArgumentHelp(
        "Keep the --json file and skip the images it already holds (a partial last line from a crash is dropped); without it the file is started afresh."))
    var resume = false

    @Flag(name: [.customShort("q"), .customLong("quiet")], help: "No progress bar or status messages (errors, and the per-image lines when there is no --json, are still printed).")
    var quiet = false

    /// The shard to run: `--shard`, or the whole batch.
    var shard: Shard {
        get throws { try shardText.map { try Shard(parsing: $0) } ?? .all }
    }

    mutating func validate() throws {
        do { _ = try shard } catch { throw ValidationError("\(error)") }
    }

    /// The IMAGE arguments expanded (files, folders, quoted globs) into the batch's sorted list.
    /// A missing file or a pattern that matches nothing is a one-line error naming it (exit 1),
    /// as other bad input is, not a usage error.
    func inputs(_ arguments: [String]) throws -> [ImageInput] {
        do { return try ImageInputs.expand(arguments) } catch { throw CommandError("\(error)") }
    }
}
