import Foundation

/// A typed n-d array as read from a checkpoint: dtype, shape and the raw little-endian, row-major
/// (C order) bytes.
///
/// `bytes` may be a slice of a memory-mapped file; nothing is copied until `floatTensor()`.
public struct CheckpointArray: Sendable, Equatable {
    /// The element type.
    public var dtype: DType
    /// The extent of each dimension, outermost first (`[]` for a scalar).
    public var shape: [Int]
    /// `elementCount * dtype.byteSize` bytes, little-endian, C order.
    public var bytes: Data

    /// An array over `bytes`; throws if their count does not match `dtype` and `shape`.
    public init(dtype: DType, shape: [Int], bytes: Data, name: String = "") throws {
        guard let count = CheckpointArray.elementCount(of: shape) else {
            throw CheckpointError.badShape(name: name, shape: shape)
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, byteCount == bytes.count else {
            throw CheckpointError.sizeMismatch(name: name, dtype: dtype, shape: shape, byteCount: bytes.count)
        }
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    /// The float32 array holding `tensor`'s values.
    public init(_ tensor: Tensor) {
        dtype = .float32
        shape = tensor.shape
        bytes = tensor.withUnsafeBufferPointer { buffer in
            #if _endian(little)
            return Data(buffer: buffer)
            #else
            return Data(buffer.map { $0.bitPattern.littleEndian })
            #endif
        }
    }

    /// The product of `shape`, or nil if an extent is negative or the product overflows.
    static func elementCount(of shape: [Int]) -> Int? {
        var count = 1
        for extent in shape {
            guard extent >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: extent)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }

    /// Number of elements.
    public var elementCount: Int { bytes.count / dtype.byteSize }

    /// Converts the values of any float, integer or bool dtype to a float32 `Tensor` of the same
    /// shape (float32 is copied bit for bit; 64-bit values are rounded to the nearest float).
    public func floatTensor() throws -> Tensor {
        let count = elementCount
        let dtype = self.dtype
        let scalars = [Float](unsafeUninitializedCapacity: count) { out, initialized in
            bytes.withUnsafeBytes { raw in
                CheckpointArray.convert(raw, dtype: dtype, count: count, into: out)
            }
            initialized = count
        }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// Decodes `count` little-endian `dtype` values from `raw` into `out`.
    private static func convert(
        _ raw: UnsafeRawBufferPointer, dtype: DType, count: Int, into out: UnsafeMutableBufferPointer<Float>
    ) {
        guard count > 0, let base = raw.baseAddress, let dst = out.baseAddress else { return }
        @inline(__always) func load<T: FixedWidthInteger>(_ i: Int, _: T.Type) -> T {
            T(littleEndian: base.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.size, as: T.self))
        }
        switch dtype {
        case .float32:
            #if _endian(little)
            UnsafeMutableRawPointer(dst).copyMemory(from: base, byteCount: count * 4)
            #else
            for i in 0..<count { dst[i] = Float(bitPattern: load(i, UInt32.self)) }
            #endif
        case .float64:
            for i in 0..<count { dst[i] = Float(Double(bitPattern: load(i, UInt64.self))) }
        case .float16:
            for i in 0..<count { dst[i] = halfToFloat(load(i, UInt16.self)) }
        case .bfloat16:
            for i in 0..<count { dst[i] = Float(bitPattern: UInt32(load(i, UInt16.self)) << 16) }
        case .int64:
            for i in 0..<count { dst[i] = Float(load(i, Int64.self)) }
        case .int32:
            for i in 0..<count { dst[i] = Float(load(i, Int32.self)) }
        case .int16:
            for i in 0..<count { dst[i] = Float(load(i, Int16.self)) }
        case .int8:
            for i in 0..<count { dst[i] = Float(load(i, Int8.self)) }
        case .uint64:
            for i in 0..<count { dst[i] = Float(load(i, UInt64.self)) }
        case .uint32:
            for i in 0..<count { dst[i] = Float(load(i, UInt32.self)) }
        case .uint16:
            for i in 0..<count { dst[i] = Float(load(i, UInt16.self)) }
        case .uint8:
            for i in 0..<count { dst[i] = Float(load(i, UInt8.self)) }
        case .bool:
            for i in 0..<count { dst[i] = load(i, UInt8.self) != 0 ? 1 : 0 }
        }
    }

    /// IEEE 754 binary16 to binary32, exact for every input including subnormals, infinities and NaN.
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = Int((h >> 10) & 0x1F)
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0x1F {
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        }
        if exponent == 0 {
            // Zero or subnormal: mantissa * 2^-24, exactly representable in float32.
            let magnitude = Float(mantissa) * Float(bitPattern: 0x3380_0000)
            return sign == 0 ? magnitude : -magnitude
        }
        return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (mantissa << 13))
    }
}
