/// Pickle opcodes (CPython `Lib/pickle.py`), protocols 0 to 5.
enum PickleOpcode {
    static let mark: UInt8 = 0x28            // (
    static let stop: UInt8 = 0x2E            // .
    static let pop: UInt8 = 0x30             // 0
    static let popMark: UInt8 = 0x31         // 1
    static let dup: UInt8 = 0x32             // 2
    static let float: UInt8 = 0x46           // F
    static let int: UInt8 = 0x49             // I
    static let binint: UInt8 = 0x4A          // J
    static let binint1: UInt8 = 0x4B         // K
    static let long: UInt8 = 0x4C            // L
    static let binint2: UInt8 = 0x4D         // M
    static let none: UInt8 = 0x4E            // N
    static let persid: UInt8 = 0x50          // P
    static let binpersid: UInt8 = 0x51       // Q
    static let reduce: UInt8 = 0x52          // R
    static let string: UInt8 = 0x53          // S
    static let binstring: UInt8 = 0x54       // T
    static let shortBinstring: UInt8 = 0x55  // U
    static let unicode: UInt8 = 0x56         // V
    static let binunicode: UInt8 = 0x58      // X
    static let append: UInt8 = 0x61          // a
    static let build: UInt8 = 0x62           // b
    static let global: UInt8 = 0x63          // c
    static let dict: UInt8 = 0x64            // d
    static let emptyDict: UInt8 = 0x7D       // }
    static let appends: UInt8 = 0x65         // e
    static let get: UInt8 = 0x67             // g
    static let binget: UInt8 = 0x68          // h
    static let inst: UInt8 = 0x69            // i
    static let longBinget: UInt8 = 0x6A      // j
    static let list: UInt8 = 0x6C            // l
    static let emptyList: UInt8 = 0x5D       // ]
    static let obj: UInt8 = 0x6F             // o
    static let put: UInt8 = 0x70             // p
    static let binput: UInt8 = 0x71          // q
    static let longBinput: UInt8 = 0x72      // r
    static let setitem: UInt8 = 0x73         // s
    static let tuple: UInt8 = 0x74           // t
    static let emptyTuple: UInt8 = 0x29      // )
    static let setitems: UInt8 = 0x75        // u
    static let binfloat: UInt8 = 0x47        // G
    static let proto: UInt8 = 0x80
    static let newobj: UInt8 = 0x81
    static let ext1: UInt8 = 0x82
    static let ext2: UInt8 = 0x83
    static let ext4: UInt8 = 0x84
    static let tuple1: UInt8 = 0x85
    static let tuple2: UInt8 = 0x86
    static let tuple3: UInt8 = 0x87
    static let newTrue: UInt8 = 0x88
    static let newFalse: UInt8 = 0x89
    static let long1: UInt8 = 0x8A
    static let long4: UInt8 = 0x8B
    static let binbytes: UInt8 = 0x42        // B
    static let shortBinbytes: UInt8 = 0x43   // C
    static let shortBinunicode: UInt8 = 0x8C
    static let binunicode8: UInt8 = 0x8D
    static let binbytes8: UInt8 = 0x8E
    static let emptySet: UInt8 = 0x8F
    static let additems: UInt8 = 0x90
    static let frozenset: UInt8 = 0x91
    static let newobjEx: UInt8 = 0x92
    static let stackGlobal: UInt8 = 0x93
    static let memoize: UInt8 = 0x94
    static let frame: UInt8 = 0x95
    static let bytearray8: UInt8 = 0x96
    static let nextBuffer: UInt8 = 0x97
    static let readonlyBuffer: UInt8 = 0x98

    private static let names: [UInt8: String] = [
        mark: "MARK", stop: "STOP", pop: "POP", popMark: "POP_MARK", dup: "DUP", float: "FLOAT", int: "INT",
        binint: "BININT", binint1: "BININT1", long: "LONG", binint2: "BININT2", none: "NONE", persid: "PERSID",
        binpersid: "BINPERSID", reduce: "REDUCE", string: "STRING", binstring: "BINSTRING",
        shortBinstring: "SHORT_BINSTRING", unicode: "UNICODE", binunicode: "BINUNICODE", append: "APPEND",
        build: "BUILD", global: "GLOBAL", dict: "DICT", emptyDict: "EMPTY_DICT", appends: "APPENDS", get: "GET",
        binget: "BINGET", inst: "INST", longBinget: "LONG_BINGET", list: "LIST", emptyList: "EMPTY_LIST",
        obj: "OBJ", put: "PUT", binput: "BINPUT", longBinput: "LONG_BINPUT", setitem: "SETITEM", tuple: "TUPLE",
        emptyTuple: "EMPTY_TUPLE", setitems: "SETITEMS", binfloat: "BINFLOAT", proto: "PROTO", newobj: "NEWOBJ",
        ext1: "EXT1", ext2: "EXT2", ext4: "EXT4", tuple1: "TUPLE1", tuple2: "TUPLE2", tuple3: "TUPLE3",
        newTrue: "NEWTRUE", newFalse: "NEWFALSE", long1: "LONG1", long4: "LONG4", binbytes: "BINBYTES",
        shortBinbytes: "SHORT_BINBYTES", shortBinunicode: "SHORT_BINUNICODE", binunicode8: "BINUNICODE8",
        binbytes8: "BINBYTES8", emptySet: "EMPTY_SET", additems: "ADDITEMS", frozenset: "FROZENSET",
        newobjEx: "NEWOBJ_EX", stackGlobal: "STACK_GLOBAL", memoize: "MEMOIZE", frame: "FRAME",
        bytearray8: "BYTEARRAY8", nextBuffer: "NEXT_BUFFER", readonlyBuffer: "READONLY_BUFFER",
    ]

    /// The opcode's name in `pickletools`, or its hex value.
    static func name(_ opcode: UInt8) -> String {
        names[opcode] ?? "0x" + String(opcode, radix: 16)
    }
}
