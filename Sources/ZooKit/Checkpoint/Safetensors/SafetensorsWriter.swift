import Foundation

/// Writes safetensors files: header JSON padded with spaces so the data section starts on an
/// 8-byte boundary, tensors ordered by decreasing element size (so each stays aligned) and
/// otherwise in the order given, written to a temporary file that is renamed into place.
public enum SafetensorsWriter {
    /// Writes `tensors` and `metadata` to `url`, replacing any file there. Names must be unique
    /// and not `__metadata__`, and the header at most `SafetensorsFile.headerLimit` bytes (else
    /// `SafetensorsError`, and nothing is written).
    public static func write(_ tensors: [(name: String, array: CheckpointArray)], metadata: [String: String], to url: URL) throws {
        try write(tensors, metadata: metadata, to: url, headerLimit: SafetensorsFile.headerLimit)
    }

    /// `write` with another header limit (tests use a small one).
    static func write(
        _ tensors: [(name: String, array: CheckpointArray)], metadata: [String: String], to url: URL, headerLimit: Int
    ) throws {
        let ordered = tensors.enumerated().sorted {
            ($1.element.array.dtype.byteSize, $0.offset) < ($0.element.array.dtype.byteSize, $1.offset)
        }.map(\.element)
        var seen = Set<String>()
        for (name, _) in ordered {
            guard name != "__metadata__" else { throw SafetensorsError.reservedTensorName(file: url.path) }
            guard seen.insert(name).inserted else { throw SafetensorsError.duplicateTensorName(file: url.path, name: name) }
        }
        let header = headerBytes(ordered, metadata: metadata)
        guard header.count <= headerLimit else {
            throw SafetensorsError.headerTooLarge(file: url.path, length: header.count, limit: headerLimit)
        }
        try MappedFile.writeAtomically(to: url) { write in
            var length = UInt64(header.count).littleEndian
            try withUnsafeBytes(of: &length) { try write($0) }
            try header.withUnsafeBytes { try write($0) }
            for (_, array) in ordered {
                try array.bytes.withUnsafeBytes { try write($0) }
            }
        }
    }

    /// The JSON header, padded with spaces to a multiple of 8 bytes.
    static func headerBytes(_ tensors: [(name: String, array: CheckpointArray)], metadata: [String: String]) -> [UInt8] {
        var json = "{"
        if !metadata.isEmpty {
            json += "\"__metadata__\":{"
            json += metadata.sorted { $0.key < $1.key }
                .map { "\(quoted($0.key)):\(quoted($0.value))" }.joined(separator: ",")
            json += "}"
        }
        var offset = 0
        for (index, (name, array)) in tensors.enumerated() {
            if index > 0 || !metadata.isEmpty { json += "," }
            let end = offset + array.bytes.count
            json += "\(quoted(name)):{\"dtype\":\"\(array.dtype.safetensorsName)\",\"shape\":["
            json += array.shape.map(String.init).joined(separator: ",")
            json += "],\"data_offsets\":[\(offset),\(end)]}"
            offset = end
        }
        json += "}"
        var bytes = Array(json.utf8)
        while (8 + bytes.count) % 8 != 0 { bytes.append(0x20) }
        return bytes
    }

    /// `text` as a JSON string literal (the index's JSON writer does the escaping).
    static func quoted(_ text: String) -> String {
        IndexValue.quote(text)
    }
}
