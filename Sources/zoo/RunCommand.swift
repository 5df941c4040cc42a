import ArgumentParser
import Foundation
import ZooKit

/// `zoo run`: the bundled engine on one or many images.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a model on images: detections as detectron2's DefaultPredictor makes them, as JSON and pictures.",
        discussion: """
            MODEL is a zoo id (137781281), a zoo config path, or a .pkl / .safetensors file (then --config is \
            required). Zoo weights are fetched on first use. With no --json, one summary line per image is printed.
            --json FILE writes JSON Lines: one object per image in the schema of the fixtures' golden files \
            (see the README), appended as each image finishes.
            With Winograd convolutions (the default) the backbone's transformed weights are kept in the cache's \
            winograd/ folder (about 230 MB for an R50-FPN model; the mask and keypoint heads transform theirs \
            at each run), so later runs of the same model start at once; the least recently used files go when it \
            outgrows ZOO_WINOGRAD_CACHE_MB (default 4096). ZOO_WINOGRAD_CACHE_MB=0 keeps no files (and leaves \
            those there alone): each run transforms the weights in memory, which is quicker for a run whose \
            cache will not be seen again (a CI job on a fresh machine).
            """)

    @Argument(help: "A zoo id or config path, or a .pkl / .safetensors weights file.")
    var model: String

    @Argument(help: "Image files (JPEG or PNG), folders (walked for .jpg/.jpeg/.png) or quoted globs ('photos/**/*.jpg').")
    var images: [String]

    @Option(help: ArgumentHelp("A detectron2 YAML config (with _BASE_ files beside it).", valueName: "file.yaml"))
    var config: String?

    @Option(help: ArgumentHelp("An index dataset whose class names label the results (e.g. coco_2017, tiny_shapes).",
                               valueName: "name"))
    var dataset: String?

    // `.unconditional`: `--threshold -1` is then out of range rather than "missing value".
    @Option(parsing: .unconditional,
            help: ArgumentHelp("Score threshold (MODEL.ROI_HEADS.SCORE_THRESH_TEST); default: the config's.", valueName: "t"))
    var threshold: Double?

    @Option(help: ArgumentHelp("Write results as JSON Lines to this file.", valueName: "file"))
    var json: String?

    @Option(help: ArgumentHelp("""
        Write a picture of each result (PNG) into this folder. An image with a side over 32767 pixels \
        (cairo's limit) is drawn scaled down, keeping its proportions, so its longer side is 32767.
        """, valueName: "dir"))
    var output: String?

    @Option(parsing: .unconditional, help: ArgumentHelp("Detections drawn in pictures need at least this score.", valueName: "t"))
    var pictureThreshold: Double = 0.5

    @Option(help: ArgumentHelp("""
        How oneDNN computes the 3x3 stride-1 convolutions: winograd (faster; results within float noise \
        of direct, inside the fixtures' tolerances) or direct.
        """, valueName: "winograd|direct"))
    var convolution: ConvolutionAlgorithm = .winograd

    @Option(help: ArgumentHelp("""
        The number format: f32, or bf16 (opt-in, needs AVX512-BF16): the convolutions Winograd does \
        not run and the box head's fully connected layers compute in bfloat16, those layers about \
        twice as fast (whole models 1.1-1.4x), with answers further from detectron2's (see the \
        README's performance section).
        """, valueName: "f32|bf16"))
    var precision: ConvolutionPrecision = .float32

    @OptionGroup var batch: BatchOptions

    @OptionGroup var index: IndexOptions

    func validate() throws {
        if images.isEmpty { throw ValidationError("give at least one image") }
        if batch.resume && json == nil { throw ValidationError("--resume needs --json FILE (the file whose images it skips)") }
        if let threshold, !(0...1).contains(threshold) { throw ValidationError("--threshold must be within 0...1") }
        if !(0...1).contains(pictureThreshold) { throw ValidationError("--picture-threshold must be within 0...1") }
    }

    func run() throws {
        let quiet = batch.quiet
        let inputs = try batch.inputs(images)
        try Self.checkOutputs(inputs: inputs, json: json, output: output, keep: readFiles())
        let zooIndex = try index.load()
        var overrides: [String: ConfigValue] = [:]
        if let threshold { overrides["MODEL.ROI_HEADS.SCORE_THRESH_TEST"] = .double(threshold) }
        if convolution == .winograd {
            var maxBytes = WinogradWeightCache.defaultMaxBytes
            if let text = ProcessInfo.processInfo.environment["ZOO_WINOGRAD_CACHE_MB"], !text.isEmpty {
                guard let megabytes = Int(text), megabytes >= 0 else {
                    throw CommandError("ZOO_WINOGRAD_CACHE_MB must be a whole number of megabytes (0 for no cache), not '\(text)'")
                }
                let (bytes, overflow) = megabytes.multipliedReportingOverflow(by: 1 << 20)
                maxBytes = overflow ? Int.max : bytes
            }
            // 0: no cache at all (making files only to remove them would cost a one-off run of
            // Keypoint R-CNN 0.8-1.1 s on the machines here: start-up and flush).
            WinogradWeightCache.shared = maxBytes == 0 ? nil
                : WinogradWeightCache(directory: ModelCache().winogradDirectory, maxBytes: maxBytes)
        }
        // New Winograd weight files are flushed and put in place in the background; let that finish.
        defer {
            if let cache = WinogradWeightCache.shared {
                cache.waitForPendingWrites()
                let failures = cache.saveFailures
                if let first = failures.first, !quiet {
                    Self.stderr("zoo: warning: \(failures.count) Winograd weights file(s) not saved to the cache, so the next run transforms them again: \(first)")
                }
            }
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let loaded = try ModelLoader.load(
            model: model, configFile: config.map { URL(fileURLWithPath: $0) }, datasetName: dataset,
            overrides: overrides, index: zooIndex, algorithm: convolution, precision: precision,
            weightsForEntry: { entry in try WeightsFetcher.localWeights(for: entry, quiet: quiet) })
        let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if !loaded.network.unusedWeights.isEmpty && !quiet {
            let keys = loaded.network.unusedWeights.joined(separator: ", ")
            Self.stderr("zoo: warning: \(loaded.weightsFile.lastPathComponent): keys not used by the model: \(keys)")
        }
        if !quiet { Self.stderr(String(format: "zoo: loaded %@ in %.2f s", loaded.name, loadSeconds)) }

        let outputDir = output.map { URL(fileURLWithPath: $0, isDirectory: true) }
        if let outputDir {
            do {
                try FileManager.default.createDirectory(at: outputDir, withIntermediateDirectories: true)
            } catch {
                throw CommandError("\(displayPath(outputDir.path)): cannot create the --output folder (\(error.localizedDescription)); give a folder path you can write to")
            }
        }
        let visualizer = Visualizer(metadata: VisualizationMetadata(dataset: loaded.dataset))
        let format = loaded.network.config.input.format

        /// One image: predict, make its JSON line, draw, summarise; returns the line. A picture
        /// that cannot be written throws `BatchRunner.FailedAfterResult` carrying the line, so
        /// the result is still written (and, without --json, still summarised).
        func process(_ input: ImageInput) throws -> Data {
            let image = try ImageDecoder.decode(contentsOf: input.url, format: format)
            let prediction = try loaded.network.predict(image)
            let record = PredictionRecord(
                prediction: prediction, config: loaded.network.config, model: loaded.name,
                weights: loaded.weightsFile.lastPathComponent, configName: loaded.configName, image: input.path,
                classNames: loaded.classNames, precision: loaded.network.precision)
            // The line first: a result JSON cannot hold (NaN) fails here, before anything is drawn.
            let line = try record.jsonLine()
            var pictureNote = ""
            var pictureFailure: PictureFailure?
            if let outputDir {
                let target = Self.picture(of: input, in: outputDir)
                do {
                    let rgb = image.converted(to: .rgb)
                    let shown = prediction.detections.filter { Double($0.score) >= pictureThreshold }
                    try visualizer.writePNG(shown, onRGB: rgb.pixels, width: rgb.width, height: rgb.height, to: target)
                    pictureNote = " -> \(displayPath(target.path))"
                } catch {
                    pictureFailure = PictureFailure(picture: target, error: error, keptLine: json != nil)
                }
            }
            // Without --json these lines are the results, so --quiet keeps them.
            if json == nil || (!quiet && inputs.count == 1) {
                let n = prediction.detections.count
                print(String(format: "%@: %d instance%@ in %.2f s%@", displayPath(input.path), n,
                             n == 1 ? "" : "s", prediction.times.total, pictureNote))
            }
            if let pictureFailure { throw BatchRunner.FailedAfterResult(line: line, failure: pictureFailure) }
            return line
        }

        if let json {
            let summary = try BatchRunner.run(images: inputs, shard: try batch.shard, resume: batch.resume,
                                              output: URL(fileURLWithPath: json), quiet: quiet, body: process)
            if !quiet {
                Self.stderr("zoo: \(summary.succeeded) done, \(summary.skipped) skipped, \(summary.failed) failed -> \(displayPath(json))")
            }
            if summary.interrupted { throw ExitCode(130) }
            if summary.failed > 0 { throw ExitCode(1) }
        } else {
            // Ctrl-C stops after the image in progress, as with --json. (Fetching a zoo id's
            // weights routed SIGINT to the download's flag, which nothing here would look at.)
            let monitor = InterruptMonitor(resumable: false)
            monitor.start()
            defer { monitor.stop() }
            var failures = 0
            for input in try batch.shard.select(inputs) {
                if monitor.stopRequested { break }
                do { _ = try process(input) } catch {
                    failures += 1
                    Self.stderr("zoo: " + BatchRunner.failureMessage(error, for: input))
                }
            }
            if monitor.stopRequested {
                monitor.noteSilentStop()
                throw ExitCode(130)
            }
            if failures > 0 { throw ExitCode(1) }
        }
    }

    /// The files this run reads besides the images, which no output may replace: the MODEL file,
    /// the --config file and its _BASE_ files, the index files (ZOO_INDEX and --index).
    func readFiles() -> [(url: URL, what: String)] {
        var files: [(url: URL, what: String)] = []
        if FileManager.default.fileExists(atPath: model) { files.append((URL(fileURLWithPath: model), "the MODEL file")) }
        if let config {
            for (n, file) in RCNNConfig.files(of: URL(fileURLWithPath: config)).enumerated() {
                files.append((file, n == 0 ? "the --config file" : "the _BASE_ file"))
            }
        }
        if let env = ProcessInfo.processInfo.environment["ZOO_INDEX"], !env.isEmpty {
            files.append((URL(fileURLWithPath: env), "the ZOO_INDEX file"))
        }
        if let indexFile = index.indexFile { files.append((URL(fileURLWithPath: indexFile), "the --index file")) }
        return files
    }

    /// Refuses, before anything runs, outputs that would destroy inputs or each other: a --json
    /// file that is one of the images, one of `keep` (files the run reads: model, config, index)
    /// or one of the pictures; a picture that would replace an image or one of `keep`; or two
    /// images whose pictures would have the same name in the --output folder.
    static func checkOutputs(inputs: [ImageInput], json: String?, output: String?,
                             keep: [(url: URL, what: String)] = []) throws {
        var byKey: [String: ImageInput] = [:]
        for input in inputs { byKey[fileKey(input.url)] = input }
        var kept: [String: (url: URL, what: String)] = [:]
        for file in keep {
            let key = fileKey(file.url)
            if kept[key] == nil { kept[key] = file }
        }
        let jsonKey = json.map { fileKey(URL(fileURLWithPath: $0)) }
        if let json, let jsonKey {
            if let input = byKey[jsonKey] {
                throw CommandError("\(displayPath(json)): --json would write over the input image \(displayPath(input.path)); give another file")
            }
            if let file = kept[jsonKey] {
                throw CommandError("\(displayPath(json)): --json would write over \(file.what) \(displayPath(file.url.path)); give another file")
            }
        }
        guard let output else { return }
        let folder = URL(fileURLWithPath: output, isDirectory: true)
        var pictures: [String: ImageInput] = [:]
        for input in inputs {
            let target = fileKey(picture(of: input, in: folder))
            if let image = byKey[target] {
                throw CommandError("\(displayPath(target)): the picture of \(displayPath(input.path)) would replace the input image \(displayPath(image.path)); give --output another folder")
            }
            if let file = kept[target] {
                throw CommandError("\(displayPath(target)): the picture of \(displayPath(input.path)) would replace \(file.what) \(displayPath(file.url.path)); give --output another folder")
            }
            if let json, target == jsonKey {
                throw CommandError("\(displayPath(json)): --json is where the picture of \(displayPath(input.path)) would be drawn (--output); give another file")
            }
            if let other = pictures.updateValue(input, forKey: target) {
                throw CommandError("\(displayPath(target)): \(displayPath(other.path)) and \(displayPath(input.path)) would both be drawn there; give images distinct names or run them separately")
            }
        }
    }

    /// The file `url` names, whatever its spelling (`ImageInput.fileKey`), also for a file (or
    /// folders) not made yet: the longest existing part is resolved and the rest appended.
    static func fileKey(_ url: URL) -> String {
        let url = url.standardizedFileURL
        let parent = url.deletingLastPathComponent()
        if url.path == "/" || parent.path == url.path || FileManager.default.fileExists(atPath: url.path) {
            return ImageInput.fileKey(url)
        }
        return URL(fileURLWithPath: fileKey(parent), isDirectory: true).appendingPathComponent(url.lastPathComponent).path
    }

    /// Where `--output` draws `input`: its name with `.png`, in `folder`.
    static func picture(of input: ImageInput, in folder: URL) -> URL {
        folder.appendingPathComponent(input.url.deletingPathExtension().lastPathComponent + ".png")
    }

    static func stderr(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// An image's picture that could not be written, after its result was made.
    struct PictureFailure: Error, CustomStringConvertible {
        let picture: URL
        let error: Error
        /// Whether the image's JSON line is written all the same (with --json).
        let keptLine: Bool

        var description: String {
            "picture \(displayPath(picture.path)) not written: \(error)"
                + (keptLine ? "; its JSON line was still written, so --resume counts the image as done" : "")
        }
    }
}

extension VisualizationMetadata {
    /// Names, colours and keypoint rules of an index dataset.
    init(dataset: DatasetMetadata?) {
        guard let dataset else {
            self.init()
            return
        }
        self.init(
            classNames: dataset.thingClasses,
            classColors: dataset.thingColors?.compactMap { $0.count == 3 ? RGBColor($0[0], $0[1], $0[2]) : nil },
            keypointNames: dataset.keypointNames ?? [],
            keypointConnectionRules: (dataset.keypointConnectionRules ?? []).compactMap { rule in
                rule.2.count == 3 ? KeypointConnectionRule(from: rule.0, to: rule.1,
                                                           color: RGBColor(rule.2[0], rule.2[1], rule.2[2])) : nil
            })
    }
}

/// Zoo weights for `zoo run`: from the cache, fetched (and verified) on first use.
enum WeightsFetcher {
    static func localWeights(for entry: ZooEntry, quiet: Bool) throws -> URL {
        Interrupts.installSIGINTHandler()
        var options = FetchOptions()
        if !quiet && ProgressBoard.stderrIsTerminal { options.progress = ProgressBoard() }
        return try fetchWeights(url: entry.weightsURL, md5Prefix: entry.md5Prefix, options: options)
    }
}

extension ConvolutionPrecision: ExpressibleByArgument {}

extension ConvolutionAlgorithm: ExpressibleByArgument {
    public init?(argument: String) {
        switch argument {
        case "winograd": self = .winograd
        case "direct": self = .direct
        default: return nil
        }
    }

    public var defaultValueDescription: String { self == .winograd ? "winograd" : "direct" }

    public static var allValueStrings: [String] { ["winograd", "direct"] }
}
