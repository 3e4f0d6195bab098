package import Yams

/// A YAML node with its location in the file, and readers that report what is wrong.
package struct YAMLValue {
    package let node: Node
    package let location: SourceLocation
    /// The file's text, to place nodes inside this one (nil for a node made up by a reader).
    package let text: SourceText?

    package init(node: Node, location: SourceLocation, text: SourceText? = nil) {
        self.node = node
        self.location = location
        self.text = text
    }

    /// A node inside this one, placed in the same file.
    package func child(_ node: Node) -> YAMLValue {
        YAMLValue(node: node, location: text?.location(node.mark) ?? JointOpsCore.location(of: node, file: location.file), text: text)
    }

    /// Words for the error messages: "a mapping", "a list", "'abc'".
    package var kindDescription: String {
        switch node {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .scalar(let scalar): scalar.string.isEmpty ? "nothing" : scalar.string.quotedForMessage
        case .alias: "an alias"
        }
    }

    package var scalar: Node.Scalar? { node.scalar }

    /// Column of the first character of a scalar's text (after an opening quote).
    package var textLocation: SourceLocation {
        guard let style = scalar?.style, style == .singleQuoted || style == .doubleQuoted else { return location }
        return location.advanced(by: 1)
    }
}

/// The entries of a YAML mapping in the order written, with unknown and missing keys reported.
package struct YAMLMapping {
    package let value: YAMLValue
    package private(set) var entries: [(key: String, keyLocation: SourceLocation, value: YAMLValue)] = []

    package init(_ value: YAMLValue, file: String) {
        self.value = value
        guard case .mapping(let mapping) = value.node else { return }
        for (key, child) in mapping {
            if key.scalar == nil { nonScalarKeys.insert(entries.count) }
            entries.append((key.scalar?.string ?? Self.flowText(key), value.child(key).location, value.child(child)))
        }
    }

    /// The indices of the entries whose key is a list or a mapping (`? [a, b]`): their key is
    /// written in flow style (`[a, b]`), so that a message can show it.
    private var nonScalarKeys: Set<Int> = []

    private static func flowText(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): scalar.string
        case .sequence(let sequence): "[" + sequence.map(flowText).joined(separator: ", ") + "]"
        case .mapping(let mapping): "{" + mapping.map { flowText($0.key) + ": " + flowText($0.value) }.joined(separator: ", ") + "}"
        case .alias: "*"
        }
    }

    package subscript(key: String) -> YAMLValue? { entries.first { $0.key == key }?.value }

    /// Reports keys not in `allowed`, duplicated keys and missing `required` keys.
    package func check(allowed: [String], required: [String] = [], in context: String, _ sink: DiagnosticSink) {
        var seen: [String: SourceLocation] = [:]
        for (index, entry) in entries.enumerated() {
            if nonScalarKeys.contains(index) {
                let kind = entry.key.hasPrefix("[") ? "a list" : "a mapping"
                sink.error(
                    entry.keyLocation,
                    "a key in \(context) must be a name, found \(kind) \(entry.key.quotedForMessage); write the key as a name")
                continue
            }
            if let first = seen[entry.key] {
                sink.error(entry.keyLocation, "duplicate key '\(entry.key)' in \(context) (first at line \(first.line))")
            } else {
                seen[entry.key] = entry.keyLocation
            }
            if !allowed.contains(entry.key) {
                if entry.key == "<<" {
                    sink.error(
                        entry.keyLocation,
                        "merge keys ('<<') are not supported in \(context): write the keys out, or alias the whole mapping (key: *name)")
                    continue
                }
                if let offset = entry.key.fullWidthColonOffset {
                    sink.error(
                        entry.keyLocation.advanced(by: offset), "unknown key '\(entry.key)' in \(context); \(String.fullWidthColonHint)")
                    continue
                }
                // In a flow mapping `{zh: 甲,乙, en: …}` the comma made `乙` a key with no value.
                let inFlowMapping = entry.keyLocation.line == value.location.line && entry.keyLocation.column > value.location.column
                if inFlowMapping, let scalar = entry.value.scalar, scalar.style == .plain, scalar.string.isEmpty {
                    sink.error(
                        entry.keyLocation,
                        "unknown key '\(entry.key)' in \(context); a comma inside { … } starts a new entry: put the text that contains it in quotes"
                    )
                    continue
                }
                sink.error(
                    entry.keyLocation,
                    "unknown key \(entry.key.quotedForMessage) in \(context)\(Suggestions.hint(for: entry.key, in: allowed, noun: "allowed keys"))"
                )
            }
        }
        // With a merge key, the keys it was meant to bring are not missing as well.
        for key in required where seen[key] == nil && seen["<<"] == nil {
            sink.error(value.location, "missing required key '\(key)' in \(context)")
        }
    }
}

package func location(of node: Node, file: String) -> SourceLocation {
    let mark = node.mark
    return SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
}

/// Collects diagnostics while a definition is read.
package final class DiagnosticSink {
    package init() {}
    package private(set) var diagnostics: [Diagnostic] = []
    /// Whether limits added after versions may have been stored — durations at most 10
    /// years, `units` at most `ScalarReaders.mostUnits` — are errors (see `WorkflowLoader.load`).
    package var appliesLaterLimits = true

    /// Input quoted in `message` is shown with its invisible characters made visible, so a
    /// diagnostic stays one line and cannot drive the terminal it is printed on.
    package func error(_ location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(.error, at: location, message.visible))
    }

    package func warning(_ location: SourceLocation, _ message: String) {
        diagnostics.append(Diagnostic(.warning, at: location, message.visible))
    }

    package var errorCount: Int { diagnostics.count { $0.severity == .error } }
}

/// Parses YAML text into a node, or reports the syntax error where libyaml found it, with a
/// hint for the common mistakes (`YAMLSyntaxHints`). A file with no document (empty, or
/// comments only) is an error saying `emptyHint`; with a nil `emptyHint` it is fine, and the
/// result is nil with nothing reported.
package func composeYAML(
    _ source: String, file: String, _ sink: DiagnosticSink, emptyHint: String? = "a workflow starts with 'workflow: ID'"
) -> YAMLValue? {
    let text = SourceText(source, file: file)
    if let problem = YAMLAliases.problem(in: source) {
        sink.error(text.location(line: problem.line, column: problem.column), problem.message)
        return nil
    }
    do {
        guard let node = try Yams.compose(yaml: source) else {
            if let emptyHint { sink.error(SourceLocation(file: file, line: 1, column: 1), "the file is empty; \(emptyHint)") }
            return nil
        }
        return YAMLValue(node: node, location: text.location(node.mark), text: text)
    } catch let error as YamlError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let (location, message) = YAMLSyntaxHints(text).diagnostic(
                problem: problem, at: text.location(mark), context: context.map { ($0.text, text.location($0.mark)) })
            sink.error(location, message)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let key = duplicates.first ?? ""
            var (first, second) = (text.location(context.mark), text.location(context.mark))
            if let found = YAMLDuplicateKeys.second(of: key, in: source) {
                first = text.location(line: found.first.line, column: found.first.column)
                second = text.location(line: found.second.line, column: found.second.column)
            }
            sink.error(
                second,
                "duplicate key \(key.quotedForMessage) (first at \(first.line == second.line ? "column \(first.column)" : "line \(first.line)")); each key may appear once in a mapping"
            )
        case .reader(let problem, let offset, let value, _):
            // libyaml refuses control characters (any but tab and line ends) anywhere in the file.
            let location = offset.map { text.location(ofCharacter: $0, in: source) } ?? SourceLocation(file: file, line: 1, column: 1)
            if problem == "control characters are not allowed", let scalar = Unicode.Scalar(UInt32(clamping: value)) {
                sink.error(
                    location,
                    "control character \(scalar.codePoint) is not allowed in YAML; delete it (most editors do not show it)")
            } else {
                sink.error(location, "YAML syntax error: \(problem)")
            }
        default:
            sink.error(SourceLocation(file: file, line: 1, column: 1), "YAML syntax error: \(error)")
        }
        return nil
    } catch {
        sink.error(SourceLocation(file: file, line: 1, column: 1), "YAML syntax error: \(error)")
        return nil
    }
}
