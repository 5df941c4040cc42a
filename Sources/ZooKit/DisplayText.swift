/// Text from a file (a tensor name, a pickle global) made safe for a one-line message: control
/// characters (newlines, NUL, terminal escapes) shown as `\u{..}` escapes, and anything past
/// `limit` characters cut, with the full length said.
public func displayText(_ text: String, limit: Int = 120) -> String {
    var out = ""
    var count = 0
    for scalar in text.unicodeScalars {
        if count == limit {
            return out + "... (\(text.unicodeScalars.count) characters)"
        }
        count += 1
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator:
            out += "\\u{\(String(scalar.value, radix: 16))}"
        default:
            out.unicodeScalars.append(scalar)
        }
    }
    return out
}

/// A path as messages show it: `displayText` with room for long paths (1000 characters).
public func displayPath(_ path: String) -> String {
    displayText(path, limit: 1000)
}
