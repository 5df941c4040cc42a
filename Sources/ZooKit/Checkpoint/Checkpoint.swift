import Foundation

/// Where a checkpoint's weights came from.
public indirect enum CheckpointLayout: Sendable, Equatable, CustomStringConvertible {
    /// A detectron2 model-zoo `.pkl`: `{"model": {name: array}, "__author__": ...}`, names as-is.
    case detectron2
    /// A Detectron1 / Caffe2 `.pkl` (`{"blobs": {c2_name: array}}` or a flat dict), renamed.
    case detectron
    /// A safetensors file; `source` is the layout of the `.pkl` it was converted from, if recorded.
    case safetensors(source: CheckpointLayout?)

    /// `detectron2`, `detectron (caffe2)`, `safetensors (from detectron2)`, ...
    public var description: String {
        switch self {
        case .detectron2: return "detectron2"
        case .detectron: return "detectron (caffe2)"
        case let .safetensors(source?): return "safetensors (from \(source))"
        case .safetensors(nil): return "safetensors"
        }
    }

    /// The value recorded in converted files' `source_layout` metadata.
    var metadataValue: String {
        switch self {
        case .detectron2: return "detectron2"
        case .detectron: return "detectron"
        case .safetensors: return "safetensors"
        }
    }

    init?(metadataValue: String) {
        switch metadataValue {
        case "detectron2": self = .detectron2
        case "detectron": self = .detectron
        default: return nil
        }
    }
}

/// Detectron2-named weights, ready for the engine.
public struct LoadedWeights: Sendable {
    /// detectron2 state-dict key -> float32 values (`backbone.bottom_up.res2.0.conv1.weight`, ...).
    public var tensors: [String: Tensor]
    /// The file's layout.
    public var layout: CheckpointLayout
    /// The keys in file order.
    public var names: [String]
}

/// The arrays of a checkpoint with detectron2 names, in file order, before float conversion.
public struct CheckpointContents: Sendable {
    /// detectron2 key and array, in the file's order.
    public var arrays: [(name: String, array: CheckpointArray)]
    /// The file's layout.
    public var layout: CheckpointLayout
    /// For Caffe2 files: detectron2 key -> original blob name (synthesised FrozenBN statistics
    /// map to the `_bn_s` blob they belong to).
    public var sourceNames: [String: String]
    /// Notes on what the conversion did (dropped momentum blobs, moved background rows, ...).
    public var notes: [String]
    /// `__author__` of a zoo file, or the `__metadata__` of a safetensors file.
    public var metadata: [String: String]
}

/// Loading checkpoints of every layout zoo knows.
public enum Checkpoint {
    /// detectron2-named weights from a .pkl (zoo or Detectron/Caffe2 layout) or .safetensors.
    ///
    /// Caffe2 files are renamed as detectron2's `c2_model_loading.py` does, with the background
    /// rows of `cls_score`/`bbox_pred`/mask predictor fixed, full keys for the R-CNN FPN and C4
    /// families, and `norm.running_mean = 0`, `norm.running_var = 1` for every AffineChannel
    /// (`_bn_s`/`_bn_b`) pair, which is what `FrozenBatchNorm2d` fills in for a state dict
    /// without them.
    public static func loadWeights(from url: URL) throws -> LoadedWeights {
        let contents = try readArrays(from: url)
        var tensors: [String: Tensor] = [:]
        tensors.reserveCapacity(contents.arrays.count)
        for (name, array) in contents.arrays { tensors[name] = try array.floatTensor() }
        return LoadedWeights(tensors: tensors, layout: contents.layout, names: contents.arrays.map(\.name))
    }

    /// The arrays of `url` with detectron2 names (see `loadWeights`), without float conversion.
    public static func readArrays(from url: URL) throws -> CheckpointContents {
        switch try fileKind(url) {
        case .safetensors:
            let file = try SafetensorsFile(contentsOf: url)
            let source = file.metadata["source_layout"].flatMap(CheckpointLayout.init(metadataValue:))
            let arrays = try file.names.map { ($0, try file.array($0)) }
            return CheckpointContents(arrays: arrays, layout: .safetensors(source: source), sourceNames: [:], notes: [], metadata: file.metadata)
        case .pickle:
            let document = try PickleReader.read(contentsOf: url)
            return try PickleCheckpoint.contents(of: document, file: url.path)
        }
    }

    enum FileKind { case pickle, safetensors }

    /// `.safetensors` / `.pkl` by extension, else by the first byte (0x80 PROTO or a protocol 0/1 opcode).
    static func fileKind(_ url: URL) throws -> FileKind {
        switch url.pathExtension.lowercased() {
        case "safetensors": return .safetensors
        case "pkl", "pickle": return .pickle
        default:
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            let head = try handle.read(upToCount: 1) ?? Data()
            if head.first == 0x80 || head.first == UInt8(ascii: "(") || head.first == UInt8(ascii: "}") { return .pickle }
            throw CheckpointError.unknownFileType(file: url.path)
        }
    }
}
