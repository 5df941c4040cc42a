/// What is wrong with a safetensors file; every case names the file and, where there is one, the
/// tensor and byte offsets.
public enum SafetensorsError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file is shorter than the 8-byte header length.
    case tooShort(file: String, size: Int)
    /// The header length points past the end of the file or above the 100 MB safetensors limit.
    case headerLength(file: String, length: UInt64, fileSize: Int)
    /// The header is not a JSON object.
    case headerNotJSON(file: String, detail: String)
    /// A header entry is not `{"dtype": ..., "shape": [...], "data_offsets": [begin, end]}`.
    case badEntry(file: String, name: String, detail: String)
    /// A dtype the reader does not know.
    case unknownDType(file: String, name: String, dtype: String)
    /// `data_offsets` reach outside the data section.
    case offsetsOutOfBounds(file: String, name: String, begin: Int, end: Int, dataSize: Int)
    /// The byte range does not match dtype and shape.
    case sizeMismatch(file: String, name: String, dtype: DType, shape: [Int], byteCount: Int)
    /// Two tensors share bytes.
    case overlap(file: String, name: String, other: String, offset: Int)
    /// `__metadata__` is not a map of strings to strings.
    case badMetadata(file: String, detail: String)
    /// No tensor of this name.
    case missingTensor(file: String, name: String)
    /// Writing: two tensors have the same name (a checkpoint that repeats a key).
    case duplicateTensorName(file: String, name: String)
    /// Writing: a tensor is named `__metadata__`, which the format reserves.
    case reservedTensorName(file: String)
    /// Writing: the JSON header would be `length` bytes, above the `limit` readers accept.
    case headerTooLarge(file: String, length: Int, limit: Int)

    public var description: String {
        let advice = "the file is corrupt or not safetensors; convert the checkpoint again"
        switch self {
        case let .tooShort(file, size):
            return "\(file): \(size) bytes is too short for a safetensors file (needs an 8-byte header length); \(advice)"
        case let .headerLength(file, length, fileSize):
            return "\(file): header length \(length) at byte 0 does not fit in the \(fileSize)-byte file (or exceeds 100 MB); \(advice)"
        case let .headerNotJSON(file, detail):
            return "\(file): header at byte 8 is not a JSON object (\(detail)); \(advice)"
        case let .badEntry(file, name, detail):
            return "\(file): header entry '\(name)': \(detail); \(advice)"
        case let .unknownDType(file, name, dtype):
            return "\(file): tensor '\(name)' has dtype '\(dtype)', which zoo does not read; re-save it as F32"
        case let .offsetsOutOfBounds(file, name, begin, end, dataSize):
            return "\(file): tensor '\(name)' data_offsets [\(begin), \(end)] fall outside the \(dataSize)-byte data section; \(advice)"
        case let .sizeMismatch(file, name, dtype, shape, byteCount):
            return "\(file): tensor '\(name)' has \(byteCount) bytes but \(dtype.safetensorsName) \(shape) needs a different count; \(advice)"
        case let .overlap(file, name, other, offset):
            return "\(file): tensors '\(other)' and '\(name)' overlap at data byte \(offset); \(advice)"
        case let .badMetadata(file, detail):
            return "\(file): __metadata__ \(detail); it must map strings to strings"
        case let .missingTensor(file, name):
            return "\(file): no tensor named '\(displayText(name))'; run `zoo inspect \(file)` to list the names"
        case let .duplicateTensorName(file, name):
            return "\(file): not written: the checkpoint has two tensors named '\(displayText(name))', which one file cannot hold; remove one from the checkpoint"
        case let .headerTooLarge(file, length, limit):
            return "\(file): not written: the header (tensor names, shapes and metadata) would be \(length) bytes, above the \(limit)-byte limit safetensors readers accept; the checkpoint has too many or too long tensor names"
        case let .reservedTensorName(file):
            return "\(file): not written: the checkpoint has a tensor named '__metadata__', a name safetensors reserves; rename it in the checkpoint"
        }
    }
}
