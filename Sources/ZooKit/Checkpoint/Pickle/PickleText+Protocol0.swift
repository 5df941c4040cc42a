import Foundation

extension PickleText {
    /// Decodes a protocol 0 `STRING` operand: a Python 2 `repr` of a byte string, quoted with
    /// `'` or `"`, with `\\`, `\'`, `\"`, `\n`, `\r`, `\t`, `\a`, `\b`, `\f`, `\v`, `\xhh` and
    /// octal escapes (CPython `codecs.escape_decode`). Returns nil if the quotes do not match.
    static func pythonStringLiteral(_ line: UnsafeRawBufferPointer) -> Data? {
        guard line.count >= 2, let first = line.first, first == line[line.count - 1],
              first == UInt8(ascii: "'") || first == UInt8(ascii: "\"") else { return nil }
        var out = Data()
        out.reserveCapacity(line.count - 2)
        var i = 1
        let end = line.count - 1
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        while i < end {
            let byte = line[i]
            guard byte == UInt8(ascii: "\\"), i + 1 < end else {
                out.append(byte)
                i += 1
                continue
            }
            let escape = line[i + 1]
            i += 2
            switch escape {
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "'"): out.append(0x27)
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "a"): out.append(0x07)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "v"): out.append(0x0B)
            case 0x0A: break
            case UInt8(ascii: "x"):
                guard i + 1 < end, let high = hex(line[i]), let low = hex(line[i + 1]) else { return nil }
                out.append(high << 4 | low)
                i += 2
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                var value = Int(escape - UInt8(ascii: "0"))
                var digits = 1
                while digits < 3, i < end, (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(line[i]) {
                    value = value * 8 + Int(line[i] - UInt8(ascii: "0"))
                    i += 1
                    digits += 1
                }
                out.append(UInt8(truncatingIfNeeded: value))
            default:
                out.append(0x5C)
                out.append(escape)
            }
        }
        return out
    }

    /// Decodes a protocol 0 `UNICODE` operand (`raw-unicode-escape`: latin-1 bytes with
    /// `\uXXXX` and `\UXXXXXXXX` escapes) to UTF-8, or nil for a bad escape.
    static func rawUnicodeEscape(_ line: UnsafeRawBufferPointer) -> Data? {
        var scalars = String.UnicodeScalarView()
        var i = 0
        while i < line.count {
            let byte = line[i]
            if byte == UInt8(ascii: "\\"), i + 1 < line.count, line[i + 1] == UInt8(ascii: "u") || line[i + 1] == UInt8(ascii: "U") {
                let digits = line[i + 1] == UInt8(ascii: "u") ? 4 : 8
                guard i + 2 + digits <= line.count else { return nil }
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: line[(i + 2)..<(i + 2 + digits)]), as: UTF8.self)
                guard let value = UInt32(text, radix: 16), let scalar = Unicode.Scalar(value) else { return nil }
                scalars.append(scalar)
                i += 2 + digits
            } else {
                scalars.append(Unicode.Scalar(byte))
                i += 1
            }
        }
        return Data(String(scalars).utf8)
    }
}
