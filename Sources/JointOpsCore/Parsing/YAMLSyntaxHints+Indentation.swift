/// A line of a block mapping or list indented so that it lines up with no entry above it
/// (a space too few or too many): libyaml then reports a problem that does not name the
/// indentation, on a line that looks right to its author.
extension YAMLSyntaxHints {
    /// libyaml's problems for such a line ("did not find expected key" for one indented
    /// less than its neighbours, "mapping values are not allowed…" for one indented more).
    static let indentationProblems: Set<String> = [
        "did not find expected key", "mapping values are not allowed in this context", "did not find expected '-' indicator",
    ]

    /// The start of `line` and what to say, when its indentation lines up with no entry it
    /// could belong beside: the line above it, or any less indented one before that holds
    /// the entries above (for a list item `- key: …`, its key's column too). A line indented
    /// deeper than a line above that opens a block (`key:`) belongs inside it, whatever its depth.
    func misalignedIndentation(line: Int) -> (SourceLocation, String)? {
        guard let indent = Self.entry(text(line))?.indent else { return nil }
        var levels: [(line: Int, indent: Int, what: String)] = []
        var ceiling = Int.max
        for above in stride(from: line - 1, through: 1, by: -1) {
            guard let entry = Self.entry(text(above)), entry.indent < ceiling else { continue }
            if levels.isEmpty, entry.opensBlock, indent > entry.indent { return nil }
            if let key = entry.itemKeyIndent {
                levels += [(above, entry.indent, "line \(above)'s '-'"), (above, key, "line \(above)'s key")]
            } else {
                levels.append((above, entry.indent, "line \(above)"))
            }
            ceiling = entry.indent
            if entry.indent == 0 { break }
        }
        guard !levels.isEmpty, !levels.contains(where: { $0.indent == indent }) else { return nil }
        let nearest = [levels.first { $0.indent > indent }, levels.first { $0.indent < indent }].compactMap { $0 }
        let lines = nearest.sorted { ($1.line, $0.indent) < ($0.line, $1.indent) }.map { "\($0.what) is indented \($0.indent)" }
        return (
            SourceLocation(file: file, line: line, column: indent + 1),
            "YAML syntax error: this line is indented \(indent) space\(indent == 1 ? "" : "s"), which lines up with no entry above it (\(lines.joined(separator: ", "))); the entries of one mapping or list line up exactly: indent it as far as the one it belongs beside"
        )
    }

    /// A line's indentation, whether it opens a block (ends with ':', a comment aside), and
    /// for a list item `- key: …` the column its key is at; nil for a blank or comment line.
    private static func entry(_ text: [Unicode.Scalar]) -> (indent: Int, opensBlock: Bool, itemKeyIndent: Int?)? {
        let indent = text.prefix { $0 == " " }.count
        let content = String(String.UnicodeScalarView(text.dropFirst(indent)))
        guard !content.isEmpty, !content.hasPrefix("#") else { return nil }
        let code = content.range(of: " #").map { String(content[..<$0.lowerBound]) } ?? content
        let trimmed = code.trimmingSuffix(" ")
        var itemKeyIndent: Int?
        if content.hasPrefix("- ") {
            let afterDash = content.dropFirst(2).prefix { $0 == " " }.count
            itemKeyIndent = indent + 2 + afterDash
        }
        return (indent, trimmed.hasSuffix(":"), itemKeyIndent)
    }
}

extension String {
    fileprivate func trimmingSuffix(_ character: Character) -> Substring {
        var end = endIndex
        while end > startIndex, self[index(before: end)] == character { end = index(before: end) }
        return self[..<end]
    }
}
