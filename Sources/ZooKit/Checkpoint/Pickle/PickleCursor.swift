import Foundation

/// Bounds-checked reads from the pickle bytes; every length is checked against what is left
/// before anything is sliced or allocated.
struct PickleCursor {
    let raw: UnsafeRawBufferPointer
    let label: String
    var position = 0
    /// Offset of the opcode being executed, reported in errors.
    var opcodeOffset = 0

    init(_ raw: UnsafeRawBufferPointer, label: String) {
        self.raw = raw
        self.label = label
    }

    var remaining: Int { raw.count - position }

    func error(_ kind: PickleError.Kind) -> PickleError {
        PickleError(file: label, offset: opcodeOffset, kind: kind)
    }

    /// Advances over `count` bytes and returns their range.
    mutating func take(_ count: Int) throws -> Range<Int> {
        guard count >= 0 else { throw error(.badOperand(opcode: "length", detail: "negative length \(count)")) }
        guard count <= remaining else { throw error(.truncated(needed: count, available: remaining)) }
        defer { position += count }
        return position..<(position + count)
    }

    /// Advances over a length given as an unsigned 64-bit number.
    mutating func take(_ count: UInt64) throws -> Range<Int> {
        guard count <= UInt64(remaining) else { throw error(.truncated(needed: Int(clamping: count), available: remaining)) }
        return try take(Int(count))
    }

    mutating func byte() throws -> UInt8 {
        guard remaining >= 1 else { throw error(.truncated(needed: 1, available: 0)) }
        defer { position += 1 }
        return raw[position]
    }

    /// A little-endian unsigned integer of `T`'s width.
    mutating func integer<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let range = try take(MemoryLayout<T>.size)
        return T(littleEndian: raw.loadUnaligned(fromByteOffset: range.lowerBound, as: T.self))
    }

    /// A big-endian IEEE double (BINFLOAT).
    mutating func bigEndianDouble() throws -> Double {
        let range = try take(8)
        return Double(bitPattern: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: range.lowerBound, as: UInt64.self)))
    }

    /// The bytes up to the next newline (protocol 0 operands), newline consumed, not included.
    mutating func line() throws -> Range<Int> {
        var end = position
        while end < raw.count, raw[end] != 0x0A { end += 1 }
        guard end < raw.count else { throw error(.truncated(needed: end - position + 1, available: remaining)) }
        defer { position = end + 1 }
        return position..<end
    }

    /// The bytes of `range` as ASCII text.
    func text(_ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: raw[range]), as: UTF8.self)
    }
}
