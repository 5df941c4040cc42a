import Foundation

/// `.pkl` -> `.safetensors` conversion with provenance metadata.
public enum CheckpointConverter {
    /// What a conversion wrote.
    public struct Result: Sendable {
        /// The safetensors file written.
        public var output: URL
        /// Number of tensors written.
        public var tensorCount: Int
        /// Total tensor bytes.
        public var byteCount: Int
        /// Layout of the source checkpoint.
        public var layout: CheckpointLayout
        /// The `__metadata__` written.
        public var metadata: [String: String]
        /// What the conversion did beyond copying (Caffe2 renaming, background rows, ...).
        public var notes: [String]
    }

    /// `model_final_abc123.pkl` -> `model_final_abc123.safetensors` in the same folder.
    public static func defaultOutput(for source: URL) -> URL {
        source.deletingPathExtension().appendingPathExtension("safetensors")
    }

    /// Converts the checkpoint at `source` (zoo or Caffe2 `.pkl`) to a safetensors file at
    /// `output` holding detectron2-named tensors, written to a temporary file and renamed.
    /// The metadata records `source_file`, `source_sha256`, `source_layout`, and `model_id` and
    /// `config` when given. `sourceSHA256` is the source's digest when the caller already knows
    /// it (the download cache records it after verifying a file); otherwise it is computed, on a
    /// second thread, and is the largest cost of a conversion (OpenSSL's SHA-256 runs at about
    /// 0.3-0.5 GB/s on a core without SHA extensions).
    public static func convert(
        _ source: URL, to output: URL, modelID: String? = nil, config: String? = nil, sourceSHA256: String? = nil
    ) throws -> Result {
        guard source.standardizedFileURL.path != output.standardizedFileURL.path else {
            throw CheckpointError.io(file: output.path, detail: "output would overwrite the source; choose another -o path")
        }
        let data = try MappedFile.map(source, sequential: true)
        // Hash on a second core while the pickle is parsed and the output written.
        let digest = sourceSHA256.map(DigestTask.init(known:)) ?? DigestTask(data)
        // The hashing thread reads the mapping: it must finish before an error unmaps it.
        defer { _ = digest.wait() }
        let document = try PickleReader.read(data: data, label: source.path)
        let contents = try PickleCheckpoint.contents(of: document, file: source.path)
        var metadata: [String: String] = [
            "format": "pt",
            "converter": "zoo",
            "source_file": source.lastPathComponent,
            "source_layout": contents.layout.rawValue,
            "source_sha256": digest.wait(),
        ]
        if let modelID { metadata["model_id"] = modelID }
        if let config { metadata["config"] = config }
        if let author = contents.metadata["__author__"] { metadata["source_author"] = author }
        if !contents.notes.isEmpty { metadata["notes"] = contents.notes.joined(separator: "; ") }
        try SafetensorsWriter.write(contents.arrays, metadata: metadata, to: output)
        return Result(
            output: output, tensorCount: contents.arrays.count,
            byteCount: contents.arrays.reduce(0) { $0 + $1.array.bytes.count },
            layout: contents.layout, metadata: metadata, notes: contents.notes)
    }
}

/// sha256 of a buffer computed on a background thread.
private final class DigestTask: @unchecked Sendable {
    private let group = DispatchGroup()
    private var result = ""

    init(known digest: String) {
        result = digest
    }

    init(_ data: Data) {
        group.enter()
        DispatchQueue.global(qos: .userInitiated).async {
            self.result = CheckpointDigest.sha256Hex(data)
            self.group.leave()
        }
    }

    /// The hex digest, once computed.
    func wait() -> String {
        group.wait()
        return result
    }
}
