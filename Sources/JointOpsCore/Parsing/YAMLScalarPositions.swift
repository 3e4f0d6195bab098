import Yams

/// Where a character of a scalar's value is written in the file. The value is not the text
/// as written: quotes and indentation are gone, line ends folded into spaces, `''` read as
/// `'`, and escapes (`\u0077`, `\n`) in double quotes decoded. Only white space and escapes
/// differ between the two, so the value is walked alongside the text: the same characters
/// one for one, a run of white space for a run of white space, an escape for what it means.
extension YAMLValue {
    /// The place of the character `offset` Characters into the scalar's value (its end for
    /// the count of Characters), and whether it is exact. When the text as written cannot be
    /// matched with the value, the place is where the value starts (`textLocation`).
    package func location(ofCharacter offset: Int) -> (location: SourceLocation, exact: Bool) {
        guard let scalar, let text else { return (textLocation, false) }
        let value = scalar.string
        let index = value.index(value.startIndex, offsetBy: max(0, offset), limitedBy: value.endIndex) ?? value.endIndex
        let target = value.unicodeScalars.distance(from: value.unicodeScalars.startIndex, to: index)
        var walk = ScalarWalk(text: text, style: scalar.style, start: textLocation)
        guard let place = walk.place(of: target, in: Array(value.unicodeScalars)) else { return (textLocation, false) }
        return (SourceLocation(file: location.file, line: place.line, column: place.column), true)
    }
}

private struct ScalarWalk {
    let text: SourceText
    let style: Node.Scalar.Style
    var line: Int
    var column: Int

    init(text: SourceText, style: Node.Scalar.Style, start: SourceLocation) {
        self.text = text
        self.style = style
        // A block scalar's text starts on the line after its indicator ('|' or '>').
        if style == .literal || style == .folded {
            (line, column) = (start.line + 1, 1)
        } else {
            (line, column) = (start.line, start.column)
        }
    }

    /// The character at the cursor; "\n" at the end of a line, nil past the last.
    private var current: Unicode.Scalar? {
        let characters = text.text(line)
        if characters.indices.contains(column - 1) { return characters[column - 1] }
        return line <= text.lines.count ? "\n" : nil
    }

    private func character(after count: Int) -> Unicode.Scalar? {
        let characters = text.text(line)
        return characters.indices.contains(column - 1 + count) ? characters[column - 1 + count] : nil
    }

    private mutating func advance(_ count: Int = 1) {
        if current == "\n" {
            (line, column) = (line + 1, 1)
        } else {
            column += count
        }
    }

    private static func isSpace(_ scalar: Unicode.Scalar) -> Bool { scalar == " " || scalar == "\t" || scalar == "\n" }

    /// The line and column of `value[target]`, or nil when the text does not match `value`.
    mutating func place(of target: Int, in value: [Unicode.Scalar]) -> (line: Int, column: Int)? {
        var index = 0
        while index < value.count {
            guard let here = current else { return nil }
            if Self.isSpace(value[index]) {
                // A run of white space in the value is a run of white space (with line ends
                // and escaped ones) in the text.
                if index == target { return (line, column) }
                while let here = current {
                    if Self.isSpace(here) {
                        advance()
                    } else if let escape = escape(), escape.meaning.map(Self.isSpace) ?? true {
                        if escape.meaning == nil { (line, column) = (line + 1, 1) } else { advance(escape.length) }
                    } else {
                        break
                    }
                }
                index += 1
                while index < value.count, Self.isSpace(value[index]) {
                    if index == target { return (line, column) }
                    index += 1
                }
                continue
            }
            if Self.isSpace(here) {
                // Indentation, or a line end the value has no space for (a block scalar's first line).
                advance()
                continue
            }
            if index == target { return (line, column) }
            if let escape = escape() {
                if escape.meaning == nil {
                    (line, column) = (line + 1, 1)
                    continue
                }
                guard escape.meaning == value[index] else { return nil }
                advance(escape.length)
            } else if style == .singleQuoted, here == "'", character(after: 1) == "'", value[index] == "'" {
                advance(2)
            } else {
                guard here == value[index] else { return nil }
                advance()
            }
            index += 1
        }
        // The end of the value: after its last character.
        return target >= value.count ? (line, column) : nil
    }

    /// The escape at the cursor in a double-quoted scalar: how many characters it takes, and
    /// the character it stands for (nil for a `\` that ends its line, which stands for nothing).
    private func escape() -> (length: Int, meaning: Unicode.Scalar?)? {
        guard style == .doubleQuoted, current == "\\" else { return nil }
        let next = character(after: 1) ?? "\n"
        let simple: [Unicode.Scalar: Unicode.Scalar] = [
            "0": "\0", "a": "\u{07}", "b": "\u{08}", "t": "\t", "\t": "\t", "n": "\n", "v": "\u{0B}", "f": "\u{0C}",
            "r": "\r", "e": "\u{1B}", " ": " ", "\"": "\"", "/": "/", "\\": "\\", "N": "\u{85}", "_": "\u{A0}",
            "L": "\u{2028}", "P": "\u{2029}",
        ]
        if next == "\n" { return (1, nil) }
        if let meaning = simple[next] { return (2, meaning) }
        let digits = ["x": 2, "u": 4, "U": 8][String(next)]
        guard let digits else { return nil }
        var hex = ""
        for count in 0..<digits {
            guard let digit = character(after: 2 + count) else { return nil }
            hex.unicodeScalars.append(digit)
        }
        guard let code = UInt32(hex, radix: 16), let meaning = Unicode.Scalar(code) else { return nil }
        return (2 + digits, meaning)
    }
}
