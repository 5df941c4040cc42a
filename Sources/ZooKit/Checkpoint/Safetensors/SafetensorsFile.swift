import Foundation

/// A safetensors file, memory-mapped and validated when opened: every tensor's offsets lie inside
/// the data section, no two overlap, and each byte count matches its dtype and shape. Tensors are
/// read lazily from the mapping.
///
/// Format: 8-byte little-endian header length `n`, `n` bytes of JSON
/// (`{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}`),
/// then the data section; offsets are relative to its start.
public struct SafetensorsFile: Sendable {
    /// One tensor's header entry.
    public struct Entry: Sendable, Equatable {
        /// Element type.
        public var dtype: DType
        /// Extents, outermost first.
        public var shape: [Int]
        /// Byte range counted from the start of the file (header included).
        public var range: Range<Int>
    }

    /// Tensor names in the order of their data (the order the writer stored them).
    public private(set) var names: [String]
    /// The `__metadata__` map (empty if the file has none).
    public private(set) var metadata: [String: String]
    /// Each tensor's dtype, shape and byte range.
    public private(set) var entries: [String: Entry]
    /// The file path or a label, used in error messages.
    public let label: String
    private let data: Data

    /// The longest JSON header, in bytes, the reader accepts (and the writer writes), as in the
    /// reference safetensors implementation.
    public static let headerLimit = 100_000_000

    /// Maps the file at `url` and validates its header.
    public init(contentsOf url: URL) throws {
        try self.init(data: MappedFile.map(url), label: url.path)
    }

    /// Validates `data` as a safetensors file; `label` names it in error messages.
    public init(data: Data, label: String = "<memory>") throws {
        self.data = data
        self.label = label
        guard data.count >= 8 else { throw SafetensorsError.tooShort(file: label, size: data.count) }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(data.count - 8), headerLength <= UInt64(SafetensorsFile.headerLimit) else {
            throw SafetensorsError.headerLength(file: label, length: headerLength, fileSize: data.count)
        }
        let dataStart = 8 + Int(headerLength)
        let header: Any
        do {
            header = try JSONSerialization.jsonObject(with: data.subdata(in: (data.startIndex + 8)..<(data.startIndex + dataStart)))
        } catch {
            // Foundation's own explanation ("Invalid UTF-8 ..."), not the NSError dump.
            let detail = (error as NSError).userInfo["NSDebugDescription"] as? String ?? error.localizedDescription
            throw SafetensorsError.headerNotJSON(file: label, detail: detail)
        }
        guard let object = header as? [String: Any] else {
            throw SafetensorsError.headerNotJSON(file: label, detail: "top level is not an object")
        }
        let dataSize = data.count - dataStart
        var metadata: [String: String] = [:]
        var entries: [String: Entry] = [:]
        for (name, value) in object {
            if name == "__metadata__" {
                guard let map = value as? [String: Any] else {
                    throw SafetensorsError.badMetadata(file: label, detail: "is not an object")
                }
                for (key, item) in map {
                    guard let text = item as? String else {
                        throw SafetensorsError.badMetadata(file: label, detail: "value of '\(key)' is not a string")
                    }
                    metadata[key] = text
                }
                continue
            }
            entries[name] = try SafetensorsFile.entry(name: name, value: value, dataStart: dataStart, dataSize: dataSize, label: label)
        }
        let ordered = entries.sorted { ($0.value.range.lowerBound, $0.key) < ($1.value.range.lowerBound, $1.key) }
        var previousEnd = dataStart
        var previousName = ""
        for (name, entry) in ordered where !entry.range.isEmpty {
            guard entry.range.lowerBound >= previousEnd else {
                throw SafetensorsError.overlap(file: label, name: name, other: previousName, offset: entry.range.lowerBound - dataStart)
            }
            previousEnd = entry.range.upperBound
            previousName = name
        }
        self.names = ordered.map(\.key)
        self.metadata = metadata
        self.entries = entries
    }

    /// Parses and checks one header entry.
    private static func entry(name: String, value: Any, dataStart: Int, dataSize: Int, label: String) throws -> Entry {
        guard let fields = value as? [String: Any] else {
            throw SafetensorsError.badEntry(file: label, name: name, detail: "not an object")
        }
        guard let dtypeName = fields["dtype"] as? String else {
            throw SafetensorsError.badEntry(file: label, name: name, detail: "missing or non-string dtype")
        }
        guard let dtype = DType(safetensorsName: dtypeName) else {
            throw SafetensorsError.unknownDType(file: label, name: name, dtype: dtypeName)
        }
        guard let shapeValues = fields["shape"] as? [Any], let shape = integers(shapeValues),
              shape.allSatisfy({ $0 >= 0 }) else {
            throw SafetensorsError.badEntry(file: label, name: name, detail: "shape is not a list of non-negative integers")
        }
        guard let offsetValues = fields["data_offsets"] as? [Any], let offsets = integers(offsetValues), offsets.count == 2 else {
            throw SafetensorsError.badEntry(file: label, name: name, detail: "data_offsets is not [begin, end]")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin >= 0, begin <= end, end <= dataSize else {
            throw SafetensorsError.offsetsOutOfBounds(file: label, name: name, begin: begin, end: end, dataSize: dataSize)
        }
        guard let count = CheckpointArray.elementCount(of: shape),
              case let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize),
              !overflow, bytes == end - begin else {
            throw SafetensorsError.sizeMismatch(file: label, name: name, dtype: dtype, shape: shape, byteCount: end - begin)
        }
        return Entry(dtype: dtype, shape: shape, range: (dataStart + begin)..<(dataStart + end))
    }

    /// JSON numbers as `Int`s, or nil if one is not an exact integer.
    private static func integers(_ values: [Any]) -> [Int]? {
        var result: [Int] = []
        result.reserveCapacity(values.count)
        for value in values {
            if let int = value as? Int { result.append(int); continue }
            if let double = value as? Double, double.rounded() == double, abs(double) < 9.0e15 {
                result.append(Int(double)); continue
            }
            return nil
        }
        return result
    }

    /// The tensor `name` as a typed array over the mapped bytes (no copy).
    public func array(_ name: String) throws -> CheckpointArray {
        guard let entry = entries[name] else { throw SafetensorsError.missingTensor(file: label, name: name) }
        let start = data.startIndex
        return try CheckpointArray(
            dtype: entry.dtype, shape: entry.shape,
            bytes: data[(start + entry.range.lowerBound)..<(start + entry.range.upperBound)], name: name)
    }

    /// The tensor `name` converted to float32.
    public func tensor(_ name: String) throws -> Tensor {
        try array(name).floatTensor()
    }
}
