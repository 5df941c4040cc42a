import ArgumentParser
import Foundation
import ZooKit

/// `zoo fetch ID|CONFIG|URL...`: downloads weights (and metrics) into the cache, resumably, with
/// retries and md5 verification, and prints each verified path.
struct FetchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fetch",
        abstract: "Download models' weights into the cache: resumed, retried, verified; prints each file's path.",
        discussion: """
        Each argument is a model id, a config path, or a weights URL. One line per argument on stdout: the \
        verified file's path (with --metrics, a tab and the metrics.json path). Ctrl-C keeps the partial \
        download (*.part) and the next run resumes it, if the server shows it is the same file (ETag or \
        Last-Modified, sent as If-Range) or the file name carries an md5; otherwise it starts over. \
        Environment: ZOO_CACHE (else $XDG_CACHE_HOME/zoo, else ~/.cache/zoo), ZOO_MIRROR, ZOO_OFFLINE=1; \
        proxies through libcurl's usual variables.
        """)

    @Argument(help: ArgumentHelp("Model ids, config paths (COCO-Detection/faster_rcnn_R_50_FPN_3x.yaml) or weights URLs.", valueName: "model"))
    var models: [String] = []

    @Flag(help: "Also download each model's training metrics.json.")
    var metrics = false

    @Flag(help: "Download again even if a verified file is cached.")
    var force = false

    @Option(help: ArgumentHelp("Replace https://dl.fbaipublicfiles.com/ in every URL (http://, https:// or file://); ZOO_MIRROR does the same.", valueName: "url"))
    var mirror: String?

    @Flag(help: "Use only the cache (ZOO_OFFLINE=1 does the same).")
    var offline = false

    @Flag(name: .shortAndLong, help: "No progress; only errors on stderr.")
    var quiet = false

    @Option(name: .shortAndLong, help: "Downloads at once.")
    var jobs = 4

    @OptionGroup var index: IndexOptions

    func validate() throws {
        guard !models.isEmpty else { throw ValidationError("name at least one model id, config or URL") }
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        if let mirror, !FetchTarget.isURL(mirror) {
            throw ValidationError("--mirror must start with http://, https:// or file:// (found \"\(mirror)\")")
        }
    }

    func run() throws {
        let targets: [FetchTarget]
        do {
            targets = try FetchTarget.resolve(models, index: index, metrics: metrics)
        } catch {
            printError("zoo fetch: \(error)")
            throw ExitCode.failure
        }
        var options = FetchOptions()
        if let mirror { options.mirror = mirror }
        options.offline = options.offline || offline
        options.force = force
        let chatty = !quiet && ProgressBoard.stderrIsTerminal
        if chatty {
            options.progress = ProgressBoard()
            options.note = { line in printError(line) }
        }
        Interrupts.installSIGINTHandler()

        let requests = targets.flatMap(\.requests)
        let results = fetchAll(requests, options: options, maxParallel: jobs)
        var failed = false, interrupted = false
        var next = 0
        for target in targets {
            let mine = results[next..<(next + target.requests.count)]
            next += target.requests.count
            var paths: [String] = []
            for result in mine {
                switch result {
                case let .success(file): paths.append(file.path)
                case let .failure(error):
                    failed = true
                    if (error as? DownloadError)?.isInterruption == true { interrupted = true }
                    printError("zoo fetch: \(target.argument): \(error)")
                }
            }
            if paths.count == mine.count { print(paths.joined(separator: "\t")) }
        }
        if interrupted { throw ExitCode(130) }
        if failed { throw ExitCode.failure }
    }
}

/// One command-line argument resolved to the files it stands for.
struct FetchTarget {
    /// The argument as typed.
    var argument: String
    /// Weights first, then (with --metrics) metrics.json.
    var requests: [FetchRequest]

    static func isURL(_ s: String) -> Bool {
        ["http://", "https://", "file://"].contains { s.hasPrefix($0) }
    }

    /// Resolves ids and configs through the index (loaded only if needed) and takes URLs as they are.
    static func resolve(_ arguments: [String], index options: IndexOptions, metrics: Bool) throws -> [FetchTarget] {
        var loaded: ZooIndex?
        return try arguments.map { argument in
            if isURL(argument) {
                let name = argument.split(separator: "/").last.map(String.init) ?? argument
                return FetchTarget(argument: argument, requests: [FetchRequest(url: argument, md5Prefix: md5Prefix(inFileName: name))])
            }
            let index = try loaded ?? options.load()
            loaded = index
            let entry = try index.lookup(argument)
            var requests = [FetchRequest(url: entry.weightsURL, md5Prefix: entry.md5Prefix)]
            if metrics, let metricsURL = entry.metricsURL {
                requests.append(FetchRequest(url: metricsURL, md5Prefix: nil, announcePin: false))
            }
            return FetchTarget(argument: argument, requests: requests)
        }
    }
}

/// Writes one line to stderr.
func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
