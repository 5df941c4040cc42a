import Foundation

/// The container a checkpoint file uses; its naming is a `CheckpointLayout`.
public enum CheckpointFormat: String, Sendable, Equatable {
    /// A Python pickle (`.pkl`), read by `PickleReader`.
    case pickle
    /// A safetensors file (`.safetensors`), memory-mapped by `SafetensorsFile`.
    case safetensors
}

extension CheckpointLayout {
    /// What `zoo inspect` prints: `detectron2`, `detectron (caffe2)`, ...
    public var displayName: String {
        switch self {
        case .detectron2: return "detectron2"
        case .detectron: return "detectron (caffe2)"
        case .detectron2ImageNet: return "caffe2 imagenet backbone"
        case .torchvision: return "torchvision (converted by detectron2)"
        }
    }
}

/// Detectron2-named weights, ready for the engine.
public struct LoadedWeights: Sendable {
    /// detectron2 state-dict key -> float32 values (`backbone.bottom_up.res2.0.conv1.weight`, ...).
    public var tensors: [String: Tensor]
    /// How the source checkpoint named its tensors (for a safetensors file written by zoo, the
    /// layout of the `.pkl` it was converted from, recorded in its metadata; names are
    /// detectron2's either way).
    public var layout: CheckpointLayout
    /// Pickle or safetensors.
    public var format: CheckpointFormat
    /// The keys in file order.
    public var names: [String]
}

/// The arrays of a checkpoint with detectron2 names, in file order, before float conversion.
public struct CheckpointContents: Sendable {
    /// Whether the arrays' bytes lie in a read-only mapping of the file (`MappedFile`), which
    /// tensors may view and whose pages may be dropped (`loadWeights`). Never set for bytes in memory.
    var isFileMapping = false
    /// detectron2 key and array, in the file's order.
    public var arrays: [(name: String, array: CheckpointArray)]
    /// How the source checkpoint named its tensors (see `LoadedWeights.layout`).
    public var layout: CheckpointLayout
    /// Pickle or safetensors.
    public var format: CheckpointFormat
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
    /// rows of `cls_score`/`bbox_pred`/mask predictor fixed, and `norm.running_mean = 0`,
    /// `norm.running_var = 1` for every AffineChannel (`_bn_s`/`_bn_b`) pair, which is what
    /// `FrozenBatchNorm2d` fills in for a state dict without them. Detection files (`"blobs"`)
    /// get full keys for the R-CNN FPN and C4 families; flat backbone files
    /// (`.detectron2ImageNet`) keep the renamed short keys (`res2.0.conv1.weight`), which the
    /// model matches with `C2NameMapping.alignC2Names`.
    public static func loadWeights(from url: URL) throws -> LoadedWeights {
        let contents = try readArrays(from: url)
        let arrays = contents.arrays
        // A safetensors file is mapped (`MappedFile`): its large float32 arrays become views of the
        // mapping instead of copies, so the weights the model only reads stay page-cache pages,
        // and the pages of those it transposes are let go with the view. The model reads every
        // convolution weight in place, those with a FrozenBN included (`Conv2d.weightScale`).
        let viewable = contents.isFileMapping
        func tensor(_ array: CheckpointArray) throws -> Tensor {
            if viewable, array.dtype == .float32,
               let view = Tensor(shape: array.shape, viewing: array.bytes, releasingPages: true) { return view }
            let copy = try array.floatTensor()
            // The mapping outlives this call (the views keep it): let the copied pages go.
            if viewable { TensorBytes.releasePages(of: array.bytes) }
            return copy
        }
        // Converted on every core: most of the time is first touches of the new arrays' pages.
        var converted = [Result<Tensor, Error>?](repeating: nil, count: arrays.count)
        converted.withUnsafeMutableBufferPointer { out in
            let workers = max(1, min(arrays.count, ProcessInfo.processInfo.activeProcessorCount))
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                var i = worker
                while i < arrays.count {
                    out[i] = Result { try tensor(arrays[i].array) }
                    i += workers
                }
            }
        }
        var tensors: [String: Tensor] = [:]
        tensors.reserveCapacity(arrays.count)
        for (i, result) in converted.enumerated() {
            if let result { tensors[arrays[i].name] = try result.get() }
        }
        return LoadedWeights(tensors: tensors, layout: contents.layout, format: contents.format, names: contents.arrays.map(\.name))
    }

    /// The arrays of `url` with detectron2 names (see `loadWeights`), without float conversion.
    public static func readArrays(from url: URL) throws -> CheckpointContents {
        switch try fileKind(url) {
        case .safetensors:
            let file = try SafetensorsFile(contentsOf: url)
            let layout = file.metadata["source_layout"].flatMap(CheckpointLayout.init(rawValue:)) ?? .detectron2
            let arrays = try file.names.map { ($0, try file.array($0)) }
            var contents = CheckpointContents(arrays: arrays, layout: layout, format: .safetensors, sourceNames: [:], notes: [],
                                              metadata: file.metadata)
            contents.isFileMapping = true
            return contents
        case .pickle:
            let document = try PickleReader.read(contentsOf: url)
            return try PickleCheckpoint.contents(of: document, file: url.path)
        }
    }

    enum FileKind { case pickle, safetensors }

    /// `.safetensors` / `.pkl` by extension, else by the first byte (0x80 PROTO or a protocol 0/1 opcode).
    static func fileKind(_ url: URL) throws -> FileKind {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue {
            throw CheckpointError.io(file: url.path, detail: "is a folder; give the path of a .pkl or .safetensors checkpoint file")
        }
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
