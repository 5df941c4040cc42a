/// Why a pickle was refused: the file, the byte offset of the opcode (or payload) at fault and
/// what was wrong there. Nothing in a refused pickle has been executed.
public struct PickleError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong.
    public enum Kind: Sendable, Equatable {
        /// The file ends inside an opcode or its payload, or before STOP.
        case truncated(needed: Int, available: Int)
        /// A byte that is not a pickle opcode.
        case unknownOpcode(UInt8)
        /// An opcode zoo refuses because it builds arbitrary objects (PERSID, INST, OBJ, EXT*, NEWOBJ_EX, NEXT_BUFFER).
        case forbiddenOpcode(String)
        /// A global outside the allow-list.
        case forbiddenGlobal(module: String, name: String)
        /// An opcode needs more values on the stack than there are.
        case stackUnderflow(opcode: String)
        /// An opcode needs a MARK and there is none.
        case missingMark(opcode: String)
        /// A memo index that was never stored.
        case memoMissing(index: Int)
        /// A protocol number above 5.
        case unsupportedProtocol(Int)
        /// An operand of the wrong type or value (a line that is not a number, a negative length, ...).
        case badOperand(opcode: String, detail: String)
        /// A numpy dtype checkpoints do not use (objects, strings, structured types).
        case unsupportedDType(String)
        /// Array bytes that do not match dtype and shape.
        case badArray(detail: String)
        /// A dict key longer than `limit` bytes (checkpoint keys are short; long ones would be
        /// decoded, hashed and renamed once per use).
        case keyTooLong(length: Int, limit: Int)
        /// Decoding, byte-swapping, reordering or hashing `what` would take the bytes of such
        /// work past `limit` (about twice the file size): the pickle reuses memoized values to
        /// multiply work, which `pickle.dump` never does.
        case excessiveWork(what: String, limit: Int)
    }

    /// The file path or a label.
    public var file: String
    /// Byte offset in the file of the opcode being executed.
    public var offset: Int
    /// What went wrong.
    public var kind: Kind

    public init(file: String, offset: Int, kind: Kind) {
        self.file = file
        self.offset = offset
        self.kind = kind
    }

    public var description: String {
        let corrupt = "the file is damaged or not a checkpoint; fetch it again"
        let what: String
        switch kind {
        case let .truncated(needed, available):
            what = "file ends early (needs \(needed) more bytes, \(available) left); \(corrupt)"
        case let .unknownOpcode(byte):
            what = "unknown pickle opcode 0x\(String(byte, radix: 16)); \(corrupt)"
        case let .forbiddenOpcode(name):
            what = "opcode \(name) would build an arbitrary Python object and is refused; only plain checkpoints (dicts of numpy arrays) are read"
        case let .forbiddenGlobal(module, name):
            what = "global '\(displayText(module)).\(displayText(name))' is not on the allow-list (numpy array reconstruction, _codecs.encode, collections.OrderedDict, bytes()) and was not loaded; re-save the checkpoint as a dict of numpy arrays"
        case let .stackUnderflow(opcode):
            what = "\(opcode) needs more values than the stack holds; \(corrupt)"
        case let .missingMark(opcode):
            what = "\(opcode) needs a MARK and there is none; \(corrupt)"
        case let .memoMissing(index):
            what = "memo index \(index) was never stored; \(corrupt)"
        case let .unsupportedProtocol(version):
            what = "pickle protocol \(version) is newer than 5; re-save with protocol <= 5"
        case let .badOperand(opcode, detail):
            what = "\(opcode): \(detail); \(corrupt)"
        case let .unsupportedDType(code):
            what = "numpy dtype '\(code)' is not a numeric type checkpoints use; re-save the array as float32"
        case let .badArray(detail):
            what = "numpy array: \(detail); \(corrupt)"
        case let .keyTooLong(length, limit):
            what = "dict key of \(length) bytes is longer than the \(limit)-byte limit (checkpoint keys are under 200 bytes) and was refused; the file is not a checkpoint or was built to exhaust memory"
        case let .excessiveWork(what: work, limit):
            what = "\(work) would take the bytes zoo copies, decodes or hashes past \(limit) (twice the file size plus 1 MiB) by reusing memoized values, which pickle.dump never does; the file was built to exhaust memory or is damaged, fetch it again from its source"
        }
        return "\(file): byte \(offset): \(what)"
    }
}
