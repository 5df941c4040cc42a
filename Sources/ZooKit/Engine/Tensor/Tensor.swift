import Foundation

/// A dense float32 tensor in row-major (C order), e.g. `[N, C, H, W]` activations or
/// `[out, in, kh, kw]` convolution weights.
///
/// This is the engine's exchange type between stages; hot loops reach its storage through
/// `withUnsafeBufferPointer` / `withUnsafeMutableBufferPointer`. A tensor loaded from a
/// safetensors file can be a read-only view of the file's mapping (`init(shape:viewing:)`): the
/// weights the model only reads then stay page-cache pages instead of being copied into fresh
/// memory at start-up; the first mutation copies the values into an array of its own.
public struct Tensor: Sendable, Equatable {
    /// The extent of each dimension, outermost first.
    public var shape: [Int]
    private var storage: Storage

    private enum Storage: Sendable {
        case owned([Float])
        case view(TensorBytes)
    }

    /// A tensor holding `scalars` laid out as `shape`.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor shape \(shape) has a negative extent")
        precondition(
            shape.reduce(1, *) == scalars.count,
            "Tensor shape \(shape) needs \(shape.reduce(1, *)) values, got \(scalars.count)")
        self.shape = shape
        storage = .owned(scalars)
    }

    /// A tensor of `shape` filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// A read-only view of `bytes` (float32 in this machine's byte order, 4-byte aligned, exactly
    /// `shape.reduce(1, *)` values, at least `TensorBytes.minimumBytes`), or nil when they are not that.
    /// `releasingPages` (only for bytes in a read-only file mapping) drops the view's whole pages
    /// from the process (`MADV_DONTNEED`) when the last copy of the view goes.
    init?(shape: [Int], viewing bytes: Data, releasingPages: Bool = false) {
        guard shape.allSatisfy({ $0 >= 0 }),
              let view = TensorBytes(bytes, count: shape.reduce(1, *), releasingPages: releasingPages) else { return nil }
        self.shape = shape
        storage = .view(view)
    }

    /// `shape.reduce(1, *)` values in row-major order. Reading a view's values copies them once
    /// (kept with the view); setting or mutating them makes the tensor own an array.
    public var scalars: [Float] {
        get {
            switch storage {
            case .owned(let array): return array
            case .view(let view): return view.array
            }
        }
        _modify {
            var array = takeArray()
            defer { storage = .owned(array) }
            yield &array
        }
        set {
            storage = .owned(newValue)
        }
    }

    /// The values as an array, leaving an empty placeholder so the array is uniquely referenced.
    private mutating func takeArray() -> [Float] {
        switch storage {
        case .owned(let array):
            storage = .owned([])
            return array
        case .view(let view):
            // A copy of its own (not the view's cached one), so mutating it copies nothing more.
            return view.withUnsafeBufferPointer { Array($0) }
        }
    }

    /// Whether the values are a view of a file's mapping (not yet copied).
    var isView: Bool {
        if case .view = storage { return true }
        return false
    }

    /// Number of values.
    public var count: Int {
        switch storage {
        case .owned(let array): return array.count
        case .view(let view): return view.count
        }
    }

    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// Calls `body` with the values as a read-only buffer (a view's mapped values, not a copy).
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        switch storage {
        case .owned(let array): return try array.withUnsafeBufferPointer(body)
        case .view(let view): return try view.withUnsafeBufferPointer(body)
        }
    }

    /// Calls `body` with the values as a mutable buffer.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
    ) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer(body)
    }

    public static func == (a: Tensor, b: Tensor) -> Bool {
        guard a.shape == b.shape else { return false }
        // Arrays compare as before (a shared buffer is equal to itself, NaN included).
        if case .owned(let x) = a.storage, case .owned(let y) = b.storage { return x == y }
        return a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in x.elementsEqual(y) } }
    }
}

/// The float32 values of a tensor view: a slice of a memory-mapped file, kept alive with it.
final class TensorBytes: @unchecked Sendable {
    private let bytes: Data
    let count: Int
    private let releasesPages: Bool
    private let lock = NSLock()
    private var copied: [Float]?

    /// Smaller arrays are copied: nothing to save, and `Data` may keep them inline, where their
    /// address is neither stable nor aligned.
    static let minimumBytes = 16 << 10

    init?(_ bytes: Data, count: Int, releasingPages: Bool) {
        #if _endian(little)
        guard bytes.count == count * MemoryLayout<Float>.size, bytes.count >= Self.minimumBytes else { return nil }
        let aligned = bytes.withUnsafeBytes { raw in
            raw.baseAddress.map { Int(bitPattern: $0) % MemoryLayout<Float>.alignment == 0 } ?? (count == 0)
        }
        guard aligned else { return nil }
        self.bytes = bytes
        self.count = count
        releasesPages = releasingPages
        #else
        return nil
        #endif
    }

    /// Lets the pages wholly inside this view go: the file's pages stay in the page cache, and a
    /// later read of the same range (another view of it) maps them again.
    deinit {
        if releasesPages { Self.releasePages(of: bytes) }
    }

    /// Drops the pages wholly inside `bytes`, which must lie in a read-only file mapping, from the
    /// process (`MADV_DONTNEED`); a later read maps them again from the page cache.
    static func releasePages(of bytes: Data) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard page > 0 else { return }
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            let start = (Int(bitPattern: base) + page - 1) / page * page
            let end = (Int(bitPattern: base) + raw.count) / page * page
            if end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) {
                _ = madvise(pointer, end - start, MADV_DONTNEED)
            }
        }
    }

    func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { raw in
            try body(UnsafeBufferPointer(start: raw.baseAddress?.assumingMemoryBound(to: Float.self), count: count))
        }
    }

    /// The values as an array, copied on first use.
    var array: [Float] {
        lock.lock()
        defer { lock.unlock() }
        if let copied { return copied }
        let made = withUnsafeBufferPointer { Array($0) }
        copied = made
        return made
    }
}
