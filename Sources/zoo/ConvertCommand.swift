import ArgumentParser
import Foundation
import ZooKit

/// `zoo convert FILE.pkl [-o OUT.safetensors]`: a checkpoint to safetensors, read by a pickle
/// reader that runs no code.
struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert a .pkl checkpoint (detectron2 zoo or Detectron/Caffe2) to safetensors without running any pickle code.",
        discussion: """
            The output holds detectron2-named tensors (Caffe2 blobs renamed as detectron2 loads them) and \
            metadata recording the source file's name, sha256 and layout. The file is written to a temporary \
            name and renamed, so a failed conversion leaves nothing behind. Prints the output path.
            """)

    @Argument(help: "The .pkl checkpoint to convert, or the id / config of a fetched zoo model (converted next to it in the cache).")
    var source: String

    @Option(name: [.short, .customLong("output")], help: "Output path (default: next to the source, with .safetensors).")
    var output: String?

    @Option(name: .customLong("model-id"), help: "Model id to record in the metadata.")
    var modelID: String?

    @Option(help: "Config path to record in the metadata.")
    var config: String?

    @Option(name: .customLong("source-sha256"), help: "The source's sha256 if already known (e.g. from `zoo cache ls --json`); skips hashing it again.")
    var sourceSHA256: String?

    @Flag(name: .shortAndLong, help: "Print only the output path.")
    var quiet = false

    func validate() throws {
        if let output, !output.hasSuffix(".safetensors") {
            throw ValidationError("-o \(output): the output must end in .safetensors")
        }
        if let digest = sourceSHA256, digest.count != 64 || !digest.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) {
            throw ValidationError("--source-sha256 \(digest): expected 64 lowercase hex digits")
        }
    }

    func run() throws {
        do {
            let job = try resolve()
            let result = try CheckpointConverter.convert(
                job.source, to: job.output, modelID: modelID ?? job.modelID, config: config ?? job.config,
                sourceSHA256: sourceSHA256 ?? job.sha256)
            if !quiet {
                let megabytes = String(format: "%.1f", Double(result.byteCount) / 1_000_000)
                var line = "zoo convert: \(result.tensorCount) tensors, \(megabytes) MB, layout \(result.layout.displayName)"
                if !result.notes.isEmpty { line += " (" + result.notes.joined(separator: "; ") + ")" }
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
            print(result.output.path)
        } catch {
            FileHandle.standardError.write(Data("zoo convert: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// What to convert: a file path, or a fetched zoo entry (id or config path) whose verified
    /// cached `.pkl` is converted next to itself, with the id, config and the cache's recorded
    /// sha256 in the metadata.
    private func resolve() throws -> (source: URL, output: URL, modelID: String?, config: String?, sha256: String?) {
        let path = URL(fileURLWithPath: source)
        if FileManager.default.fileExists(atPath: path.path) {
            return (path, output.map { URL(fileURLWithPath: $0) } ?? CheckpointConverter.defaultOutput(for: path), nil, nil, nil)
        }
        let entry: ZooEntry
        do {
            entry = try ZooIndex.load().lookup(source)
        } catch {
            throw CommandError("\(source): no such file, and not a model id or config: \(error)")
        }
        let cache = ModelCache()
        guard let file = cache.cachedFile(forURL: entry.weightsURL) else {
            throw CommandError("\(source): model \(entry.id) is not in the cache (\(cache.root.path)); run `zoo fetch \(entry.id)` first")
        }
        let destination = output.map { URL(fileURLWithPath: $0) } ?? CheckpointConverter.defaultOutput(for: file)
        return (file, destination, entry.id, entry.config, cache.record(forURL: entry.weightsURL)?.sha256)
    }
}
