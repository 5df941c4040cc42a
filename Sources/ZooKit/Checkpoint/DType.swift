/// The element type of a checkpoint array, as numpy and safetensors name them.
///
/// Values are always stored little-endian once read (a big-endian numpy array is swapped when it is
/// loaded), so a `DType` says nothing about byte order.
public enum DType: String, Sendable, CaseIterable, Codable {
    case float64, float32, float16, bfloat16
    case int64, int32, int16, int8
    case uint64, uint32, uint16, uint8
    case bool

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .float64, .int64, .uint64: return 8
        case .float32, .int32, .uint32: return 4
        case .float16, .bfloat16, .int16, .uint16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    /// The safetensors header name (`"F32"`, `"I64"`, `"BOOL"`, ...).
    public var safetensorsName: String {
        switch self {
        case .float64: return "F64"
        case .float32: return "F32"
        case .float16: return "F16"
        case .bfloat16: return "BF16"
        case .int64: return "I64"
        case .int32: return "I32"
        case .int16: return "I16"
        case .int8: return "I8"
        case .uint64: return "U64"
        case .uint32: return "U32"
        case .uint16: return "U16"
        case .uint8: return "U8"
        case .bool: return "BOOL"
        }
    }

    /// The dtype named `name` in a safetensors header, or nil for one zoo does not read.
    public init?(safetensorsName name: String) {
        guard let match = DType.allCases.first(where: { $0.safetensorsName == name }) else { return nil }
        self = match
    }

    /// The dtype of a numpy type code without byte-order character (`"f4"`, `"i8"`, `"u1"`, `"b1"`,
    /// `"?"`), or nil for one checkpoints do not use (objects, strings, complex, datetimes).
    public init?(numpyCode code: String) {
        switch code {
        case "f8", "d": self = .float64
        case "f4", "f": self = .float32
        case "f2", "e": self = .float16
        case "i8", "q", "l": self = .int64
        case "i4", "i": self = .int32
        case "i2", "h": self = .int16
        case "i1", "b": self = .int8
        case "u8", "Q", "L": self = .uint64
        case "u4", "I": self = .uint32
        case "u2", "H": self = .uint16
        case "u1", "B": self = .uint8
        case "b1", "?": self = .bool
        default: return nil
        }
    }

    /// The numpy type code (`"f4"`, `"i8"`, ...); bfloat16 has none in numpy and is written `"bf16"`.
    public var numpyCode: String {
        switch self {
        case .float64: return "f8"
        case .float32: return "f4"
        case .float16: return "f2"
        case .bfloat16: return "bf16"
        case .int64: return "i8"
        case .int32: return "i4"
        case .int16: return "i2"
        case .int8: return "i1"
        case .uint64: return "u8"
        case .uint32: return "u4"
        case .uint16: return "u2"
        case .uint8: return "u1"
        case .bool: return "b1"
        }
    }
}
