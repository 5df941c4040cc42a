import Foundation

/// What went wrong while loading or converting a checkpoint (above the pickle and safetensors
/// readers, which have their own `PickleError` and `SafetensorsError`).
public enum CheckpointError: Error, CustomStringConvertible, Sendable {
    /// An array's byte count does not match its dtype and shape.
    case sizeMismatch(name: String, dtype: DType, shape: [Int], byteCount: Int)
    /// A shape is negative or its element count overflows.
    case badShape(name: String, shape: [Int])
    /// The unpickled object is not a checkpoint zoo understands.
    case unrecognisedLayout(file: String, detail: String)
    /// A key holds something that is not an array where an array is required.
    case notAnArray(file: String, key: String, found: String)
    /// The background-row fix of a Caffe2 blob cannot apply to its shape.
    case badC2Blob(file: String, blob: String, shape: [Int], detail: String)
    /// detectron2's suffix matching found one checkpoint key for two model keys.
    case ambiguousC2Match(checkpointKey: String, modelKeys: [String])
    /// The file extension is neither `.pkl` nor `.safetensors` (nor anything the content reveals).
    case unknownFileType(file: String)
    /// A file could not be read or written.
    case io(file: String, detail: String)
    /// Two keys hold the same array object (a pickle memo reference); checkpoints store each
    /// array once, and every alias would be copied in full.
    case sharedArray(file: String, key: String, otherKey: String)
    /// The arrays add up to more bytes than the file has, which only arrays sharing one stored
    /// payload can do.
    case arraysExceedFile(file: String, key: String, total: Int, fileSize: Int)

    public var description: String {
        switch self {
        case let .sizeMismatch(name, dtype, shape, byteCount):
            return "checkpoint array '\(name)': \(byteCount) bytes cannot hold \(dtype.rawValue) of shape \(shape); the file is corrupt, fetch it again"
        case let .badShape(name, shape):
            return "checkpoint array '\(name)': invalid shape \(shape); the file is corrupt, fetch it again"
        case let .unrecognisedLayout(file, detail):
            return "\(file): not a detectron2 or Detectron checkpoint (\(detail)); pass a model_final_*.pkl or a .safetensors written by zoo"
        case let .notAnArray(file, key, found):
            return "\(file): key '\(key)' holds \(found), expected a numpy array; the checkpoint is not a plain state dict"
        case let .badC2Blob(file, blob, shape, detail):
            return "\(file): Caffe2 blob '\(blob)' of shape \(shape): \(detail); the Detectron checkpoint does not match detectron2's conventions"
        case let .ambiguousC2Match(checkpointKey, modelKeys):
            return "Caffe2 key '\(checkpointKey)' matches several model keys \(modelKeys); detectron2 refuses this too, rename the blobs"
        case let .unknownFileType(file):
            return "\(file): neither a .pkl nor a .safetensors checkpoint; give a file with one of these extensions"
        case let .io(file, detail):
            return "\(file): \(detail)"
        case let .sharedArray(file, key, otherKey):
            return "\(file): keys '\(displayText(otherKey))' and '\(displayText(key))' hold the same array object; checkpoints store each array once, so the file is damaged or built to exhaust memory; fetch it again from its source"
        case let .arraysExceedFile(file, key, total, fileSize):
            return "\(file): at key '\(displayText(key))' the arrays add up to \(total) bytes, more than the \(fileSize)-byte file holds (they share stored payloads); the file is damaged or built to exhaust memory; fetch it again from its source"
        }
    }
}
