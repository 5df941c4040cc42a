import ArgumentParser
import Foundation
import ZooKit

/// `zoo cache ls|rm|verify`: what is in the download cache, removing it, re-checking it.
struct CacheCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cache",
        abstract: "Show, remove or re-verify downloaded files (ZOO_CACHE, else $XDG_CACHE_HOME/zoo, else ~/.cache/zoo).",
        subcommands: [List.self, Remove.self, Verify.self])

    /// `zoo cache ls [--json]`.
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "List cached files with their size and verified state.",
            discussion: "States: verified, pinned (verified; its first download's sha256 is its only checksum), changed (size differs from its record), unverified (no record), partial (an unfinished download), derived (winograd/*.wino: transformed weights zoo run made and remakes when missing), temporary (.*.tmp: being written, or left by a stopped process; zoo run removes stale Winograd ones after an hour, zoo cache rm --all removes all).")

        @Flag(help: "One JSON array instead of a table.")
        var json = false

        func run() throws {
            let cache = ModelCache()
            let rows = try CacheListing(cache: cache).rows()
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(rows), as: UTF8.self))
                return
            }
            print("cache: \(cache.root.path)")
            for row in rows {
                print("\(row.state.padding(toLength: 10, withPad: " ", startingAt: 0)) \(formatBytes(row.size).leftPadded(10))  \(displayPath(row.path))")
            }
            print("\(rows.count) file\(rows.count == 1 ? "" : "s"), \(formatBytes(rows.map(\.size).reduce(0, +)))")
        }
    }

    /// `zoo cache rm ID...|--all`.
    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove models' files (weights, metrics, partial downloads) from the cache.",
            discussion: "Files only: an argument whose path is a folder is refused. A file that a running zoo fetch is downloading is refused too (its lock is held), and so is --all while any fetch runs. --all removes zoo's own entries (detectron2/, winograd/, manifest.*, partial downloads, locks, zoo's temporary files, recorded files) and leaves anything else in the folder.")

        @Argument(help: ArgumentHelp("Model ids, config paths or weights URLs.", valueName: "model"))
        var models: [String] = []

        @Flag(help: "Remove everything zoo put in the cache (other files in the folder stay).")
        var all = false

        @OptionGroup var index: IndexOptions

        func validate() throws {
            if all, !models.isEmpty { throw ValidationError("give either model ids or --all, not both") }
            if !all, models.isEmpty { throw ValidationError("name the models to remove, or --all") }
        }

        func run() throws {
            let cache = ModelCache()
            let removal = CacheRemoval(cache: cache)
            if all {
                let summary: CacheRemovalSummary
                do { summary = try removal.removeAll() } catch let error as DownloadError {
                    printError("zoo cache rm: \(error)")
                    throw ExitCode.failure
                }
                print("removed \(summary.removed) file\(summary.removed == 1 ? "" : "s") from \(cache.root.path)")
                if !summary.kept.isEmpty {
                    print("left in place (not made by zoo): \(summary.kept.map { displayText($0) }.joined(separator: ", "))")
                }
                return
            }
            // An unreadable manifest stops here, before any file goes (its records must not be lost).
            _ = try cache.records()
            let targets: [FetchTarget]
            do { targets = try FetchTarget.resolve(models, index: index, metrics: true) } catch {
                printError("zoo cache rm: \(error)")
                throw ExitCode.failure
            }
            var failed = false
            let root = cache.root.standardizedFileURL.resolvingSymlinksInPath().path + "/"
            for target in targets {
                var removed = false
                for request in target.requests {
                    let file = cache.path(forURL: request.url)
                    // Only files inside the cache: a symbolic link in the cache must not lead rm elsewhere.
                    guard file.deletingLastPathComponent().standardizedFileURL.resolvingSymlinksInPath().path.appending("/").hasPrefix(root) else {
                        printError("zoo cache rm: \(file.path) is outside the cache \(cache.root.path) (through a symbolic link); not removed")
                        continue
                    }
                    do {
                        // Under the file's lock, which a running fetch holds: that fetch's file stays.
                        for path in try removal.remove(url: request.url) {
                            print("removed \(path)")
                            removed = true
                        }
                    } catch let error as DownloadError {
                        printError("zoo cache rm: \(error)")
                        failed = true
                        removed = true
                    }
                }
                if !removed { print("\(target.argument): not cached") }
            }
            if failed { throw ExitCode.failure }
        }
    }

    /// `zoo cache verify [--fix]`.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "verify", abstract: "Re-hash every cached file against its record (or the md5 in its name).",
            discussion: "Winograd weight files (winograd/*.wino) have no record: their headers and the payload hash each header holds are checked, and --fix removes a damaged one (zoo run makes it again).")

        @Flag(help: "Remove corrupt files (and record verified files the manifest lacks).")
        var fix = false

        func run() throws {
            let report = try CacheVerifier(cache: ModelCache()).run(fix: fix)
            for line in report.lines { print(displayText(line, limit: 4000)) }
            print("\(report.ok) ok, \(report.corrupt) corrupt\(fix && report.corrupt > 0 ? " (removed)" : ""), \(report.unverifiable) without a checksum")
            if report.corrupt > 0, !fix { throw ExitCode.failure }
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
