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

    @Argument(help: "The .pkl checkpoint to convert.")
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
        let sourceURL = URL(fileURLWithPath: source)
        guard FileManager.default.fileExists(atPath: sourceURL.path) else {
            // `zoo convert ID` (a fetched entry, converted next to it in the cache) needs the index
            // and the cache; until they are wired here, give the fetched file's path instead.
            throw ValidationError("\(source): no such file; give the path of a .pkl (for a fetched model, the path `zoo fetch ID` printed)")
        }
        let outputURL = output.map { URL(fileURLWithPath: $0) } ?? CheckpointConverter.defaultOutput(for: sourceURL)
        do {
            let result = try CheckpointConverter.convert(
                sourceURL, to: outputURL, modelID: modelID, config: config, sourceSHA256: sourceSHA256)
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
}
