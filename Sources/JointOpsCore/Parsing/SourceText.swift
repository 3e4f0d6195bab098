package import Yams

/// A YAML file's text as an editor shows it, and libyaml's positions turned into that.
///
/// An editor's lines end at "\n" ("\r\n" is one line end). libyaml ends a line at "\r"
/// alone, NEL (U+0085), LINE SEPARATOR (U+2028) and PARAGRAPH SEPARATOR (U+2029) too, so
/// after one of those its line numbers were one too many. Columns count Unicode scalars,
/// as libyaml's do; a byte order mark is not counted, as libyaml does not count it.
package final class SourceText: Sendable {
    package let file: String
    /// The lines, without their line ends.
    let lines: [[Unicode.Scalar]]
    /// Where each of libyaml's lines starts: the editor's line and the column before its
    /// first character.
    private let yamlLineStarts: [(line: Int, column: Int)]

    package init(_ source: String, file: String) {
        self.file = file
        var lines: [[Unicode.Scalar]] = []
        var starts: [(line: Int, column: Int)] = [(1, 0)]
        var line: [Unicode.Scalar] = []
        var scalars = source.unicodeScalars[...]
        if scalars.first == "\u{FEFF}" { scalars = scalars.dropFirst() }
        var previous: Unicode.Scalar = "\0"
        for scalar in scalars {
            switch scalar {
            case "\n":
                if line.last == "\r" { line.removeLast() }
                lines.append(line)
                line = []
                // After "\r" libyaml already counted a line: "\r\n" is one line end.
                if previous == "\r" {
                    starts[starts.count - 1] = (lines.count + 1, 0)
                } else {
                    starts.append((lines.count + 1, 0))
                }
            case "\r", "\u{85}", "\u{2028}", "\u{2029}":
                line.append(scalar)
                starts.append((lines.count + 1, line.count))
            default:
                line.append(scalar)
            }
            previous = scalar
        }
        lines.append(line)
        self.lines = lines
        yamlLineStarts = starts
    }

    /// The editor's position of libyaml's 1-based `line` and `column`.
    package func location(line: Int, column: Int) -> SourceLocation {
        guard line >= 1, let start = yamlLineStarts.indices.contains(line - 1) ? yamlLineStarts[line - 1] : yamlLineStarts.last
        else { return SourceLocation(file: file, line: 1, column: 1) }
        return SourceLocation(file: file, line: start.line, column: start.column + max(1, column))
    }

    package func location(_ mark: Mark?) -> SourceLocation {
        guard let mark else { return SourceLocation(file: file, line: 1, column: 1) }
        return location(line: mark.line, column: mark.column)
    }

    /// The editor's position of the character `offset` Characters into `source` (the text
    /// this was made of).
    package func location(ofCharacter offset: Int, in source: String) -> SourceLocation {
        let index = source.index(source.startIndex, offsetBy: offset, limitedBy: source.endIndex) ?? source.endIndex
        var line = 1
        var column = 1
        for scalar in source.unicodeScalars[..<index] {
            if scalar == "\n" {
                (line, column) = (line + 1, 1)
            } else if scalar != "\u{FEFF}" || line > 1 || column > 1 {
                column += 1
            }
        }
        return SourceLocation(file: file, line: line, column: column)
    }

    /// The text of the 1-based `line`, or nothing past the end.
    func text(_ line: Int) -> [Unicode.Scalar] { lines.indices.contains(line - 1) ? lines[line - 1] : [] }
}

extension Unicode.Scalar {
    /// "U+0007", as Unicode writes a code point.
    package var codePoint: String {
        let hex = String(value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}
