import Foundation

/// A value on the unpickler's stack. Containers live in `PickleDocument.objects` and are referred
/// to by index, so a hostile pickle can nest or cycle them as it likes without any recursion in
/// zoo (no deep `deinit` chains, no infinite walks).
public enum PickleValue: Sendable {
    /// `None`.
    case none
    /// `True` / `False`.
    case bool(Bool)
    /// An integer that fits in 64 bits.
    case int(Int)
    /// An integer outside 64 bits (kept only as a marker; checkpoints have no use for it).
    case largeInt
    /// A Python float.
    case float(Double)
    /// A Python `str` (or Python 2 byte string).
    case string(PickleText)
    /// `bytes` / `bytearray` (a slice of the file: no copy).
    case bytes(Data)
    /// A container, array, dtype or allowed global in `PickleDocument.objects`.
    case object(Int)
}

/// A Python `str`: UTF-8 text (Python 3 `str`) or a Python 2 byte string, decoded as latin-1 as
/// `pickle.load(encoding="latin1")` does. Kept as bytes so a Python 2 array payload is not copied.
public struct PickleText: Sendable, Equatable {
    /// The raw bytes as they appear in the file (UTF-8, or latin-1 when `isLatin1`).
    public var raw: Data
    /// True for Python 2 byte strings (`STRING`, `BINSTRING`, `SHORT_BINSTRING`).
    public var isLatin1: Bool

    /// The text as a Swift string.
    public var string: String {
        String(decoding: isLatin1 ? utf8Bytes() : raw, as: UTF8.self)
    }

    /// Bytes `utf8Bytes()` returns: `raw.count`, plus one per byte above 0x7F of a latin-1 text.
    var utf8Count: Int {
        guard isLatin1 else { return raw.count }
        return raw.reduce(raw.count) { $0 + ($1 >= 0x80 ? 1 : 0) }
    }

    /// `str.encode("utf8")`: `raw` itself for UTF-8 text, else each latin-1 byte as its UTF-8 encoding.
    func utf8Bytes() -> Data {
        guard isLatin1 else { return raw }
        var out = Data()
        out.reserveCapacity(utf8Count)
        for byte in raw {
            if byte < 0x80 {
                out.append(byte)
            } else {
                out.append(0xC0 | (byte >> 6))
                out.append(0x80 | (byte & 0x3F))
            }
        }
        return out
    }

    /// `str.encode("latin1")`: the bytes whose code points are the characters, or nil if a
    /// character is above U+00FF.
    public func latin1Bytes() -> Data? {
        if isLatin1 { return raw }
        var out = Data(count: raw.count)
        var count = 0
        let ok: Bool = raw.withUnsafeBytes { (source: UnsafeRawBufferPointer) -> Bool in
            out.withUnsafeMutableBytes { (destination: UnsafeMutableRawBufferPointer) -> Bool in
                var i = 0
                let n = source.count
                while i < n {
                    let byte = source[i]
                    if byte < 0x80 {
                        destination[count] = byte
                        i += 1
                    } else if (byte == 0xC2 || byte == 0xC3), i + 1 < n, source[i + 1] & 0xC0 == 0x80 {
                        destination[count] = ((byte & 0x1F) << 6) | (source[i + 1] & 0x3F)
                        i += 2
                    } else {
                        return false
                    }
                    count += 1
                }
                return true
            }
        }
        guard ok else { return nil }
        out.count = count
        return out
    }
}

/// A numpy dtype as pickled: type code and byte order (`<`, `>`, `|` or `=`).
public struct NumpyDType: Sendable, Equatable {
    /// The element type.
    public var dtype: DType
    /// `<` little-endian, `>` big-endian, `|` not applicable, `=` native.
    public var byteOrder: Character
}

/// A global from the allow-list; nothing else can be named by a pickle zoo reads.
public enum PickleGlobal: Sendable, Equatable {
    /// `numpy.core.multiarray._reconstruct` / `numpy._core.multiarray._reconstruct`.
    case reconstruct
    /// `numpy.ndarray`.
    case ndarray
    /// `numpy.dtype`.
    case dtype
    /// `numpy.core.multiarray.scalar` / `numpy._core.multiarray.scalar`.
    case scalar
    /// `numpy.core.numeric._frombuffer` / `numpy._core.numeric._frombuffer` (protocol 5 arrays).
    case frombuffer
    /// `_codecs.encode` (Python 3 bytes in protocols 0-2).
    case codecsEncode
    /// `collections.OrderedDict`.
    case orderedDict
    /// `builtins.bytes` / `__builtin__.bytes`, only as `bytes()`: how protocols 0-2 write `b''`
    /// (the payload of an empty array).
    case emptyBytes

    /// The allowed global `module.name`, or nil.
    init?(module: String, name: String) {
        switch (module, name) {
        case ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"): self = .reconstruct
        case ("numpy", "ndarray"): self = .ndarray
        case ("numpy", "dtype"): self = .dtype
        case ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"): self = .scalar
        case ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"): self = .frombuffer
        case ("_codecs", "encode"): self = .codecsEncode
        case ("collections", "OrderedDict"): self = .orderedDict
        case ("builtins", "bytes"), ("__builtin__", "bytes"): self = .emptyBytes
        default: return nil
        }
    }
}

/// A dict in insertion order; string keys replace earlier equal keys as in Python.
public struct PickleDict: Sendable {
    /// Keys and values in insertion order.
    public private(set) var items: [(key: PickleValue, value: PickleValue)] = []
    private var stringIndex: [String: Int] = [:]

    /// The longest string key, in bytes, the reader accepts (`PickleError.Kind.keyTooLong`):
    /// checkpoint keys are under 200 bytes, and every key is decoded and hashed at each use.
    static let keyLimit = 4096

    /// `self[key] = value`.
    mutating func set(_ key: PickleValue, _ value: PickleValue) {
        if case let .string(text) = key {
            let name = text.string
            if let index = stringIndex[name] {
                items[index].value = value
                return
            }
            stringIndex[name] = items.count
        }
        items.append((key, value))
    }

    /// The value of string key `name`.
    public subscript(name: String) -> PickleValue? {
        stringIndex[name].map { items[$0].value }
    }
}

/// A heap object of the unpickler.
public enum PickleObject: Sendable {
    /// A list.
    case list([PickleValue])
    /// A tuple.
    case tuple([PickleValue])
    /// A dict or `OrderedDict`.
    case dict(PickleDict)
    /// A set or frozenset, in insertion order.
    case set([PickleValue])
    /// An allowed global (a callable for REDUCE).
    case global(PickleGlobal)
    /// An ndarray made by `_reconstruct`, waiting for its BUILD (nil) or complete.
    case ndarray(CheckpointArray?)
    /// A numpy dtype.
    case dtype(NumpyDType)
    /// A slot whose object is being updated in place (never visible after an opcode completes).
    case vacant

    /// A short name of the type for error messages ("dict", "numpy array", ...).
    public var typeName: String {
        switch self {
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .set: return "set"
        case .global: return "a global"
        case .ndarray(nil): return "an unfinished numpy array (its BUILD is missing)"
        case .ndarray: return "numpy array"
        case .dtype: return "numpy dtype"
        case .vacant: return "object"
        }
    }
}

/// The result of unpickling: the top-level value and the objects it refers to.
public struct PickleDocument: Sendable {
    /// The value STOP returned.
    public var root: PickleValue
    /// Every container and array, indexed by `PickleValue.object`.
    public var objects: [PickleObject]
    /// The highest protocol number announced (0 if none).
    public var protocolVersion: Int
    /// The size of the pickle in bytes: what the distinct arrays of a checkpoint can add up to
    /// at most (`PickleCheckpoint` refuses more, which only shared payloads can reach).
    public var byteCount: Int

    /// The dict `value` refers to, if it is one.
    public func dict(_ value: PickleValue) -> PickleDict? {
        if case let .object(index) = value, case let .dict(dict) = objects[index] { return dict }
        return nil
    }

    /// The complete array `value` refers to, if it is one.
    public func array(_ value: PickleValue) -> CheckpointArray? {
        if case let .object(index) = value, case let .ndarray(array?) = objects[index] { return array }
        return nil
    }

    /// The text of `value`, if it is a string.
    public func string(_ value: PickleValue) -> String? {
        if case let .string(text) = value { return text.string }
        return nil
    }

    /// A short description of `value`'s type for error messages ("int", "dict", "numpy array", ...).
    public func typeName(_ value: PickleValue) -> String {
        switch value {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .largeInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case let .object(index): return objects[index].typeName
        }
    }
}
