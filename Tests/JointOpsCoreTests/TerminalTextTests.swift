import JointOpsCore
import Testing

/// Stored text as jointopsctl shows it: on a terminal, in a Markdown report, in a CSV file.
struct TerminalTextTests {
    /// Every character that acts on a terminal or reorders text is written as an escape, in
    /// the style jointopsctl always used (`\n`, `\u{1B}`); other text is kept as it is.
    @Test func controlAndBidiCharactersAreWrittenAsEscapes() {
        let hostile =
            "\u{1B}]0;PWNED\u{07}\u{1B}[2J\u{1B}[8mHIDDEN\nFAKE\r\t\u{9B}31m\u{7F}\u{85}\u{2028}\u{202E}RTL\u{2066}x\u{2069}\u{200F}"
        #expect(
            TerminalText.escaped(hostile)
                == #"\u{1B}]0;PWNED\u{7}\u{1B}[2J\u{1B}[8mHIDDEN\nFAKE\r\t\u{9B}31m\u{7F}\u{85}\u{2028}\u{202E}RTL\u{2066}x\u{2069}\u{200F}"#
        )
        #expect(TerminalText.escaped("柳林巡逻1 — back\\slash é") == "柳林巡逻1 — back\\slash é")
        for value in 0x202A...0x202E { #expect(TerminalText.acts(Unicode.Scalar(UInt32(value))!)) }
        for value in [0x00, 0x1B, 0x7F, 0x80, 0x9B, 0x9F, 0x2066, 0x2069] { #expect(TerminalText.acts(Unicode.Scalar(UInt32(value))!)) }
        #expect(!TerminalText.acts("a") && !TerminalText.acts(" ") && !TerminalText.acts("津"))
    }

    /// Escaping twice changes nothing more: a reply escaped as it arrives may pass through again.
    @Test func escapingIsIdempotent() {
        let once = TerminalText.escaped("a\u{1B}[31mb\n\u{202E}")
        #expect(TerminalText.escaped(once) == once)
    }

    /// Every string of a reply is escaped, object keys too; numbers and the rest are kept.
    @Test func aReplyIsEscapedThroughout() {
        let reply: JSONValue = .object([
            "reason\u{1B}": .string("x\u{9B}"), "list": .array([.string("\n"), .int(3), .null, .bool(true)]), "n": .double(1.5),
        ])
        #expect(
            TerminalText.escaped(reply)
                == .object([
                    #"reason\u{1B}"#: .string(#"x\u{9B}"#), "list": .array([.string(#"\n"#), .int(3), .null, .bool(true)]),
                    "n": .double(1.5),
                ]))
        #expect(TerminalText.escapedLines("a 1\nb\u{1B}[2J 2\n") == "a 1\nb\\u{1B}[2J 2\n")
    }

    /// Markup in stored text stays text in the Markdown report: a cell cannot be split, nor
    /// a link, HTML or an entity made; `\n` (an escaped line break) reads as before.
    @Test func markdownMarkupIsEscaped() {
        #expect(MarkdownText.escaped("a|b") == #"a\|b"#)
        #expect(MarkdownText.escaped("`x` *y* _z_ [l](u) <b> ~s~ &#x202E;") == #"\`x\` \*y\* \_z\_ \[l\](u) \<b\> \~s\~ \&#x202E;"#)
        #expect(MarkdownText.escaped(#"two\nlines \u{1B}"#) == #"two\nlines \u{1B}"#)
        #expect(MarkdownText.escaped(#"end\|x \*"#) == #"end\\\|x \\\*"#)
        #expect(MarkdownText.escaped("柳林 2026-11-30 (escalation #1)") == "柳林 2026-11-30 (escalation #1)")
        #expect(MarkdownText.escaped("notify duty_commander _x") == #"notify duty_commander \_x"#)
    }

    /// RFC 4180 quoting, and a formula's first character neutralised (OWASP CSV injection).
    @Test func csvFieldsAreQuotedAndFormulasNeutralised() {
        #expect(CSVField.text("plain") == "plain")
        #expect(CSVField.text("a,b") == #""a,b""#)
        #expect(CSVField.text(#"say "hi""#) == #""say ""hi""""#)
        #expect(CSVField.text("two\nlines") == "\"two\nlines\"")
        #expect(CSVField.text("cr\r") == "\"cr\r\"")
        #expect(CSVField.text("=cmd|' /C calc'!A0") == "'=cmd|' /C calc'!A0")
        for start in ["+", "-", "@"] { #expect(CSVField.text(start + "1") == "'" + start + "1") }
        #expect(CSVField.text("=SUM(A1,A2)") == #""'=SUM(A1,A2)""#)
        #expect(CSVField.text("\tx") == "'\tx")
    }
}
