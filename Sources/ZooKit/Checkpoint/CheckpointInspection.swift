import Foundation

/// What `zoo inspect` reports about a checkpoint file: its tensors as stored, without renaming
/// (a Caffe2 file lists its blobs, each with the detectron2 key it loads as).
public struct CheckpointInspection: Sendable, Encodable {
    /// One stored tensor.
    public struct Entry: Sendable, Encodable {
        /// The name in the file.
        public var name: String
        /// numpy-style dtype name (`float32`, `int64`, ...).
        public var dtype: String
        /// Extents, outermost first.
        public var shape: [Int]
        /// Bytes of data.
        public var bytes: Int
        /// For Caffe2 blobs: the detectron2 key it loads as, or nil if detectron2 drops it (`*_momentum`).
        public var detectron2Key: String?

        enum CodingKeys: String, CodingKey {
            case name, dtype, shape, bytes
            case detectron2Key = "detectron2_key"
        }
    }

    /// The path inspected.
    public var file: String
    /// `pickle` or `safetensors`.
    public var format: String
    /// The pickle protocol (pickles only).
    public var pickleProtocol: Int?
    /// `CheckpointLayout.rawValue` of the file (for safetensors, of its source).
    public var layout: String
    /// safetensors `__metadata__`, or a zoo pickle's `__author__`.
    public var metadata: [String: String]
    /// The tensors in file order.
    public var tensors: [Entry]
    /// Total number of elements.
    public var parameterCount: Int
    /// Total bytes of tensor data.
    public var totalBytes: Int

    enum CodingKeys: String, CodingKey {
        case file, format, layout, metadata, tensors
        case pickleProtocol = "pickle_protocol"
        case parameterCount = "parameter_count"
        case totalBytes = "total_bytes"
    }

    /// Reads `url` (.pkl or .safetensors) and lists its tensors.
    public init(contentsOf url: URL) throws {
        file = url.path
        switch try Checkpoint.fileKind(url) {
        case .safetensors:
            let st = try SafetensorsFile(contentsOf: url)
            format = "safetensors"
            pickleProtocol = nil
            layout = st.metadata["source_layout"] ?? CheckpointLayout.detectron2.rawValue
            metadata = st.metadata
            tensors = st.names.compactMap { name in
                st.entries[name].map { Entry(name: name, dtype: $0.dtype.rawValue, shape: $0.shape, bytes: $0.range.count, detectron2Key: nil) }
            }
        case .pickle:
            let document = try PickleReader.read(contentsOf: url)
            let contents = try PickleCheckpoint.contents(of: document, file: url.path)
            format = "pickle"
            pickleProtocol = document.protocolVersion
            layout = contents.layout.rawValue
            metadata = contents.metadata
            switch contents.layout {
            case .detectron, .detectron2ImageNet:
                // List the blobs as stored, momentum included.
                var keyForBlob: [String: String] = [:]
                for (key, blob) in contents.sourceNames where !key.hasSuffix("running_mean") && !key.hasSuffix("running_var") {
                    keyForBlob[blob] = key
                }
                let root = document.dict(document.root)
                let blobs = root?["blobs"].flatMap(document.dict) ?? root
                tensors = (blobs?.items ?? []).compactMap { key, value in
                    guard let name = document.string(key), let array = document.array(value) else { return nil }
                    return Entry(name: name, dtype: array.dtype.rawValue, shape: array.shape, bytes: array.bytes.count, detectron2Key: keyForBlob[name])
                }
            case .detectron2, .torchvision:
                tensors = contents.arrays.map {
                    Entry(name: $0.name, dtype: $0.array.dtype.rawValue, shape: $0.array.shape, bytes: $0.array.bytes.count, detectron2Key: nil)
                }
            }
        }
        parameterCount = tensors.reduce(0) { $0 + $1.shape.reduce(1, *) }
        totalBytes = tensors.reduce(0) { $0 + $1.bytes }
    }
}
