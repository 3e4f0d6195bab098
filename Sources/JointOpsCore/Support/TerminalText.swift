/// Stored text made safe to show on a terminal. Anyone who may write to the store (a hold
/// reason, a note, a call sign) must not drive the terminal of whoever reads it: jointopsctl
/// escapes every reply of jointopsd with this as it arrives (except under --json, which is
/// exact), so only the colour jointopsctl adds itself reaches the terminal.
public enum TerminalText {
    /// `text` with each character that would act on a terminal, or move text, written as an
    /// escape: `\n`, `\t`, `\r`, else `\u{1B}` — C0 and C1 controls (ESC, CSI 0x9B, DEL), line
    /// and paragraph separators, and the bidirectional controls (U+202E …), so that a note
    /// stays on its line and reads in its order. Backslashes are not escaped: this is for
    /// reading; --json is exact.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: acts) else { return text }
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": result.append(contentsOf: #"\n"#.unicodeScalars)
            case "\t": result.append(contentsOf: #"\t"#.unicodeScalars)
            case "\r": result.append(contentsOf: #"\r"#.unicodeScalars)
            case _ where acts(scalar):
                result.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            default: result.append(scalar)
            }
        }
        return String(result)
    }

    /// A text of several lines (the metrics): each line `escaped`, its line breaks kept.
    public static func escapedLines(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { escaped(String($0)) }.joined(separator: "\n")
    }

    /// Whether `scalar` acts on a terminal or on the order text is shown in.
    public static func acts(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator: true
        default: scalar.properties.isBidiControl
        }
    }

    /// `value` with every string in it, object keys too, `escaped`.
    public static func escaped(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text): .string(escaped(text))
        case .array(let items): .array(items.map(escaped))
        case .object(let members): .object(escaped(members))
        case .null, .bool, .int, .double, .encoded: value
        }
    }

    public static func escaped(_ members: [String: JSONValue]) -> [String: JSONValue] {
        Dictionary(members.map { (escaped($0.key), escaped($0.value)) }) { first, _ in first }
    }
}
