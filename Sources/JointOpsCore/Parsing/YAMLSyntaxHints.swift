/// libyaml's syntax errors in an author's words. The common mistakes are recognised from the
/// text around the error and pointed at where the mend goes: a tab in the indentation, a
/// value with ': ' in it, a quote or bracket that is never closed, a full-width colon, a line
/// indented one space too few or too many, a file nested too deep. Anything else is said as libyaml says it.
struct YAMLSyntaxHints {
    /// libyaml's limit on nested lists and mappings (`MAX_NESTING_LEVEL`; we do not change it).
    static let maximumNesting = 1000

    /// The source's lines as Unicode scalars (libyaml counts columns in scalars), without
    /// their line ends.
    let lines: [[Unicode.Scalar]]
    let file: String

    init(_ text: SourceText) {
        lines = text.lines
        file = text.file
    }

    /// The diagnostic for libyaml's `problem` at `here`, found during `context` ("while
    /// scanning a quoted scalar"), which began at its own place. Both are the editor's
    /// positions (`SourceText`), not libyaml's.
    func diagnostic(
        problem: String, at here: SourceLocation, context: (text: String, location: SourceLocation)?
    ) -> (SourceLocation, String) {
        let (line, column) = (here.line, here.column)
        let context = context.map { (text: $0.text, line: $0.location.line, column: $0.location.column) }
        if let tab = tabInIndentation(line: line) {
            return (tab, "YAML syntax error: a tab in the indentation; indent with spaces, not tabs")
        }
        // Spaces an input method types that YAML does not take for spaces.
        if let (space, name) = [line, line - 1].lazy.compactMap(wideSpaceInIndentation(line:)).first {
            return (space, "YAML syntax error: a \(name) in the indentation; indent with ordinary spaces")
        }
        if let (space, name) = [context?.line, line - 1, line].compactMap({ $0 }).lazy.compactMap(wideSpaceAfterColon(line:)).first {
            return (space, "YAML syntax error: a \(name) after ':', which YAML does not read as a space; type an ordinary space")
        }
        if problem == "but found another document" {
            return (
                here,
                "YAML syntax error: a second document ('---') in the file; a file holds one workflow: remove the '---' and what follows, or move it to a file of its own"
            )
        }
        // A line end only libyaml sees: what follows it on the line is read as a new line.
        if let (separator, name) = [context?.line, line - 1, line].compactMap({ $0 }).lazy.compactMap(invisibleLineEnd(line:)).first {
            return (
                separator,
                "YAML syntax error: \(problem); YAML reads the \(name) here as a line end, though an editor shows none: delete it"
            )
        }
        if problem.hasPrefix("Maximum nesting level reached") {
            return (
                here,
                "YAML syntax error: lists and mappings nested deeper than \(Self.maximumNesting) levels; a workflow, a jurisdiction or a roster needs only a few"
            )
        }
        // A key typed with '：' is no key: libyaml stumbles on its line or the next.
        if let colon = [context?.line, line, line - 1].compactMap({ $0 }).lazy.compactMap(fullWidthColonAfterKey(line:)).first {
            return (colon, "YAML syntax error: a key without ':'; \(String.fullWidthColonHint)")
        }
        if Self.indentationProblems.contains(problem), let (start, message) = misalignedIndentation(line: line) {
            return (start, message)
        }
        let opener = context.flatMap { context in
            self.opener(at: context.line, context.column, for: context.text).map { (context, $0) }
        }
        if let (context, opener) = opener, isAtEnd(line: line, column: column) {
            return (
                SourceLocation(file: file, line: context.line, column: context.column),
                "YAML syntax error: this \(opener.name) is never closed: the file ends inside it; \(opener.mend)"
            )
        }
        if let example = quotedValueExample(line: line, column: column) {
            return (
                here,
                "YAML syntax error: a second ': ' in one entry, which YAML reads as the start of a mapping; quote a value that contains ': ', e.g. \(example)"
            )
        }
        if let (context, opener) = opener {
            return (
                here,
                "YAML syntax error: \(problem) (\(context.text)); the \(opener.name) at line \(context.line), column \(context.column) is not closed before here"
            )
        }
        let during = context.map { " (\($0.text))" } ?? ""
        if isAtEnd(line: line, column: column) {
            return (
                here,
                "YAML syntax error: \(problem)\(during) at the end of the file; look for an unclosed quote or bracket earlier in the file"
            )
        }
        return (here, "YAML syntax error: \(problem)\(during)")
    }

    func text(_ line: Int) -> [Unicode.Scalar] { lines.indices.contains(line - 1) ? lines[line - 1] : [] }

    /// The first tab in the indentation of `line` (the spaces and tabs it starts with).
    private func tabInIndentation(line: Int) -> SourceLocation? {
        let indentation = text(line).prefix { $0 == " " || $0 == "\t" }
        return indentation.firstIndex(of: "\t").map { SourceLocation(file: file, line: line, column: $0 + 1) }
    }

    /// Spaces that look like ' ' and are not, with their names.
    static let wideSpaces: [Unicode.Scalar: String] = [
        "\u{3000}": "full-width space (U+3000)", "\u{A0}": "no-break space (U+00A0)",
    ]

    /// The first full-width or no-break space in the indentation of `line`.
    private func wideSpaceInIndentation(line: Int) -> (SourceLocation, String)? {
        let text = self.text(line)
        let indentation = text.prefix { $0 == " " || Self.wideSpaces[$0] != nil }
        guard let index = indentation.firstIndex(where: { Self.wideSpaces[$0] != nil }) else { return nil }
        return (SourceLocation(file: file, line: line, column: index + 1), Self.wideSpaces[text[index]] ?? "")
    }

    /// A full-width or no-break space right after a ':' on `line` (`initial:\u{A0}true`).
    private func wideSpaceAfterColon(line: Int) -> (SourceLocation, String)? {
        let text = self.text(line)
        guard let index = text.indices.dropFirst().first(where: { text[$0 - 1] == ":" && Self.wideSpaces[text[$0]] != nil })
        else { return nil }
        return (SourceLocation(file: file, line: line, column: index + 1), Self.wideSpaces[text[index]] ?? "")
    }

    /// The first character on `line` that libyaml reads as a line end and an editor does not
    /// (see `SourceText`), with its name.
    private func invisibleLineEnd(line: Int) -> (SourceLocation, String)? {
        let text = self.text(line)
        guard let index = text.firstIndex(where: { Self.invisibleLineEnds[$0] != nil }) else { return nil }
        return (SourceLocation(file: file, line: line, column: index + 1), Self.invisibleLineEnds[text[index]] ?? "")
    }

    static let invisibleLineEnds: [Unicode.Scalar: String] = [
        "\u{2028}": "LINE SEPARATOR (U+2028)", "\u{2029}": "PARAGRAPH SEPARATOR (U+2029)", "\u{85}": "NEXT LINE (U+0085)",
        "\r": "carriage return (U+000D) without a line feed",
    ]

    /// Where `line` starts with a key followed by a full-width colon '：' (`  - assess： x`).
    private func fullWidthColonAfterKey(line: Int) -> SourceLocation? {
        let text = self.text(line)
        var start = text.prefix { $0 == " " }.count
        if text[start...].starts(with: ["-", " "]) { start += 2 + text[(start + 2)...].prefix { $0 == " " }.count }
        let key = text[start...].prefix {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
        }
        let colon = start + key.count
        guard !key.isEmpty, text.indices.contains(colon), text[colon] == "：" else { return nil }
        return SourceLocation(file: file, line: line, column: colon + 1)
    }

    /// Whether nothing but white space follows `line`:`column`: libyaml reached the end of
    /// the file still inside something.
    private func isAtEnd(line: Int, column: Int) -> Bool {
        let rest = text(line).dropFirst(max(0, column - 1))
        guard rest.allSatisfy({ $0 == " " || $0 == "\t" }) else { return false }
        return lines.dropFirst(max(0, line)).allSatisfy { $0.allSatisfy { $0 == " " || $0 == "\t" } }
    }

    /// The quote or bracket libyaml was inside (`context` began at it), with how to close it.
    private func opener(at line: Int, _ column: Int, for context: String) -> (name: String, mend: String)? {
        let line = text(line)
        guard line.indices.contains(column - 1) else { return nil }
        switch (line[column - 1], context) {
        case ("\"", "while scanning a quoted scalar"): return ("opening quote (\")", "end the text with \"")
        case ("'", "while scanning a quoted scalar"): return ("opening quote (')", "end the text with '")
        case ("[", "while parsing a flow sequence"): return ("'['", "end the list with ']'")
        case ("{", "while parsing a flow mapping"): return ("'{'", "end the mapping with '}'")
        default: return nil
        }
    }

    /// For a ':' at `line`:`column` that follows an entry's own "key: ", that entry with its
    /// value quoted (`title: "Note: danger"`); nil when the ':' is not such a second one.
    private func quotedValueExample(line: Int, column: Int) -> String? {
        let text = self.text(line)
        guard text.indices.contains(column - 1), text[column - 1] == ":" else { return nil }
        // The entry starts after the last flow indicator or list dash before the ':'.
        let before = text[..<(column - 1)]
        let start = before.lastIndex { $0 == "{" || $0 == "[" || $0 == "," }.map { $0 + 1 } ?? before.startIndex
        var entry = String(String.UnicodeScalarView(before[start...]))
        entry = String(entry.drop { $0 == " " || $0 == "-" })
        guard let separator = entry.firstRange(of: ": ") else { return nil }
        let key = entry[..<separator.lowerBound]
        // The value runs to the end of the entry: the line's end, or the next ',', '}' or ']' in a flow.
        let inFlow = start != before.startIndex
        let after = text[(column - 1)...].prefix { !inFlow || ($0 != "," && $0 != "}" && $0 != "]") }
        var value = entry[separator.upperBound...] + String(String.UnicodeScalarView(after))
        if let comment = value.firstRange(of: " #") { value = value[..<comment.lowerBound] }
        while value.last == " " { value.removeLast() }
        guard !key.isEmpty, !value.isEmpty else { return nil }
        let quoted = value.contains("\"") ? "'\(value.replacing("'", with: "''"))'" : "\"\(value)\""
        return "\(key): \(quoted)"
    }
}

extension String {
    /// How many Unicode scalars into the text a full-width colon '：' is, if there is one: a
    /// Chinese input method types it where ':' was meant, and the key and its value are
    /// then read as one text.
    var fullWidthColonOffset: Int? {
        unicodeScalars.firstIndex(of: "：").map { unicodeScalars.distance(from: unicodeScalars.startIndex, to: $0) }
    }

    static let fullWidthColonHint = "did you type a full-width colon '：'? use ':'"
}
