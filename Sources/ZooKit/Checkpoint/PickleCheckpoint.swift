import Foundation

/// Turns an unpickled checkpoint into detectron2-named arrays: detectron2's
/// `DetectionCheckpointer._load_file` for `.pkl` files, then (Caffe2 files)
/// `convert_c2_detectron_names` and the full keys `align_and_update_state_dicts` finds.
enum PickleCheckpoint {
    static func contents(of document: PickleDocument, file: String) throws -> CheckpointContents {
        guard let root = document.dict(document.root) else {
            throw CheckpointError.unrecognisedLayout(file: file, detail: "the pickle holds a \(document.typeName(document.root)), not a dict")
        }
        if let model = root["model"], let author = root["__author__"] {
            guard let modelDict = document.dict(model) else {
                throw CheckpointError.unrecognisedLayout(file: file, detail: "'model' is a \(document.typeName(model)), not a dict")
            }
            let arrays = try namedArrays(modelDict, document: document, file: file, prefix: "model.")
            var metadata: [String: String] = [:]
            metadata["__author__"] = document.string(author)
            // tools/convert-torchvision-to-d2.py writes "__author__": "torchvision".
            let layout: CheckpointLayout = metadata["__author__"] == "torchvision" ? .torchvision : .detectron2
            var notes: [String] = []
            // DetectionCheckpointer matches such names by suffix (align_and_update_state_dicts
            // with c2_conversion=False) instead of using them as-is.
            if case .bool(true)? = root["matching_heuristics"] {
                metadata["matching_heuristics"] = "true"
                notes.append("matching_heuristics: keys are partial, match them with C2NameMapping.alignC2Names")
            }
            return CheckpointContents(arrays: arrays, layout: layout, format: .pickle, sourceNames: [:], notes: notes, metadata: metadata)
        }
        // Caffe2 / Detectron1: detection models have "blobs", ImageNet models are flat.
        var blobs = root
        var prefix = ""
        if let nested = root["blobs"] {
            guard let dict = document.dict(nested) else {
                throw CheckpointError.unrecognisedLayout(file: file, detail: "'blobs' is a \(document.typeName(nested)), not a dict")
            }
            blobs = dict
            prefix = "blobs."
        }
        var kept = PickleDict()
        var momentum = 0
        for (key, value) in blobs.items {
            if let name = document.string(key), name.hasSuffix("_momentum") { momentum += 1; continue }
            kept.set(key, value)
        }
        let arrays = try namedArrays(kept, document: document, file: file, prefix: prefix)
        var contents = try convertC2(arrays, file: file, fullKeys: !prefix.isEmpty)
        if momentum > 0 { contents.notes.insert("dropped \(momentum) *_momentum blobs", at: 0) }
        return contents
    }

    /// `(name, array)` for every entry, which must all be string -> array.
    ///
    /// Every later step (renaming, background rows, FrozenBN statistics, float conversion,
    /// writing) costs each array's bytes again, so a pickle that names one array object under
    /// many keys (`CheckpointError.sharedArray`), or builds many arrays over one memoized
    /// payload (`CheckpointError.arraysExceedFile`: more bytes than the file), is refused here.
    static func namedArrays(_ dict: PickleDict, document: PickleDocument, file: String, prefix: String) throws -> [(name: String, array: CheckpointArray)] {
        var result: [(name: String, array: CheckpointArray)] = []
        result.reserveCapacity(dict.items.count)
        var keyOfObject: [Int: String] = [:]
        var total = 0
        for (key, value) in dict.items {
            guard let name = document.string(key) else {
                throw CheckpointError.unrecognisedLayout(file: file, detail: "a key in '\(prefix)' is a \(document.typeName(key)), not a string")
            }
            guard let array = document.array(value) else {
                throw CheckpointError.notAnArray(file: file, key: prefix + name, found: document.typeName(value))
            }
            if case let .object(index) = value, let other = keyOfObject.updateValue(prefix + name, forKey: index) {
                throw CheckpointError.sharedArray(file: file, key: prefix + name, otherKey: other)
            }
            let (sum, overflow) = total.addingReportingOverflow(array.bytes.count)
            guard !overflow, sum <= document.byteCount else {
                throw CheckpointError.arraysExceedFile(file: file, key: prefix + name, total: overflow ? Int.max : sum, fileSize: document.byteCount)
            }
            total = sum
            result.append((name, array))
        }
        return result
    }

    /// Renames Caffe2 blobs, fixes the background rows, adds FrozenBN statistics, and (detection
    /// models, `fullKeys`) prefixes the full detectron2 keys.
    static func convertC2(_ blobs: [(name: String, array: CheckpointArray)], file: String, fullKeys: Bool) throws -> CheckpointContents {
        var renamedBlobs: [(renamed: String, blob: String, array: CheckpointArray)] = []
        var seen: [String: String] = [:]
        // detectron2 processes sorted(weights.keys()); file order is kept here for readability.
        for (blob, array) in blobs {
            let renamed = C2NameMapping.renamed(blob)
            if let other = seen[renamed] {
                throw CheckpointError.badC2Blob(file: file, blob: blob, shape: array.shape, detail: "renames to '\(renamed)' like '\(other)'")
            }
            seen[renamed] = blob
            renamedBlobs.append((renamed, blob, array))
        }
        var notes: [String] = []
        let fpn = renamedBlobs.contains { $0.renamed.hasPrefix("fpn_") }
        var arrays: [(name: String, array: CheckpointArray)] = []
        var sourceNames: [String: String] = [:]
        var fixed = 0
        for (renamed, blob, array) in renamedBlobs {
            var array = array
            if let rows = C2NameMapping.droppedBackgroundRows(renamed) {
                array = try dropRows(array, rows, file: file, blob: blob)
                fixed += 1
            } else if renamed.hasPrefix("cls_score.") {
                array = try rotateFirstRowToEnd(array, file: file, blob: blob)
                fixed += 1
            }
            let key = fullKeys ? C2NameMapping.detectron2Key(forRenamed: renamed, fpn: fpn) : renamed
            arrays.append((key, array))
            sourceNames[key] = blob
        }
        if fixed > 0 { notes.append("moved or dropped the background class rows of \(fixed) predictor blobs") }
        // FrozenBatchNorm2d._load_from_state_dict: a state dict without running statistics gets
        // running_mean = 0 and running_var = 1.
        var added = 0
        let present = Set(arrays.map(\.name))
        for (key, array) in arrays where key.hasSuffix("norm.weight") && (sourceNames[key]?.hasSuffix("_bn_s") ?? false) {
            let base = String(key.dropLast("weight".count))
            guard !present.contains(base + "running_mean"), !present.contains(base + "running_var") else { continue }
            arrays.append((base + "running_mean", CheckpointArray(Tensor(shape: array.shape, repeating: 0))))
            arrays.append((base + "running_var", CheckpointArray(Tensor(shape: array.shape, repeating: 1))))
            sourceNames[base + "running_mean"] = sourceNames[key]
            sourceNames[base + "running_var"] = sourceNames[key]
            added += 1
        }
        if added > 0 {
            notes.append("added running_mean = 0, running_var = 1 for \(added) AffineChannel norms (FrozenBatchNorm2d's defaults)")
        }
        return CheckpointContents(
            arrays: arrays, layout: fullKeys ? .detectron : .detectron2ImageNet, format: .pickle,
            sourceNames: sourceNames, notes: notes, metadata: [:])
    }

    /// `array[rows:]` along the first axis.
    static func dropRows(_ array: CheckpointArray, _ rows: Int, file: String, blob: String) throws -> CheckpointArray {
        guard let first = array.shape.first, first > rows else {
            throw CheckpointError.badC2Blob(file: file, blob: blob, shape: array.shape, detail: "has no \(rows) background rows to drop")
        }
        let rowBytes = array.bytes.count / first
        var shape = array.shape
        shape[0] = first - rows
        let start = array.bytes.startIndex + rows * rowBytes
        return try CheckpointArray(dtype: array.dtype, shape: shape, bytes: array.bytes[start..<array.bytes.endIndex], name: blob)
    }

    /// `torch.cat([w[1:], w[:1]])`: the background row moves from first to last.
    static func rotateFirstRowToEnd(_ array: CheckpointArray, file: String, blob: String) throws -> CheckpointArray {
        guard let first = array.shape.first, first > 0 else {
            throw CheckpointError.badC2Blob(file: file, blob: blob, shape: array.shape, detail: "has no background row")
        }
        let rowBytes = array.bytes.count / first
        let split = array.bytes.startIndex + rowBytes
        var bytes = Data(array.bytes[split..<array.bytes.endIndex])
        bytes.append(array.bytes[array.bytes.startIndex..<split])
        return try CheckpointArray(dtype: array.dtype, shape: array.shape, bytes: bytes, name: blob)
    }
}
