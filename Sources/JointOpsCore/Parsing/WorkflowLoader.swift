/// Reads and validates a workflow definition: YAML text in, a compiled `Workflow` and
/// every problem found (as `FILE:LINE:COLUMN` diagnostics) out.
public enum WorkflowLoader {
    public struct Result: Sendable {
        /// Nil when any error was found.
        public var workflow: Workflow?
        /// Errors and warnings, in file order.
        public var diagnostics: [Diagnostic]
    }

    /// Whether a file in a workflows folder is a workflow: a .yaml or .yml file, but not a
    /// hidden one (a name starting with '.', such as an editor's swap or backup file). The
    /// daemon and `jointopsctl workflow validate` read a folder by the same rule.
    public static func isWorkflowFileName(_ name: String) -> Bool {
        !name.hasPrefix(".") && (name.hasSuffix(".yaml") || name.hasSuffix(".yml"))
    }

    /// The diagnostic for a file whose `bytes` are not UTF-8 text, at the first byte that is
    /// not (its line, and its column counted in the characters before it).
    public static func notUTF8(file: String, bytes: some Collection<UInt8>) -> Diagnostic {
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var index = bytes.startIndex
        var (line, column) = (1, 1)
        while case .valid(let encoded) = parser.parseScalar(from: &iterator) {
            let scalar = Unicode.UTF8.decode(encoded)
            if scalar == "\n" {
                (line, column) = (line + 1, 1)
            } else if scalar != "\u{FEFF}" || index != bytes.startIndex {
                column += 1
            }
            index = bytes.index(index, offsetBy: encoded.count)
        }
        let at = SourceLocation(file: file, line: line, column: column)
        guard index < bytes.endIndex else { return Diagnostic(.error, at: at, "not UTF-8 text; save the file as UTF-8") }
        let byte = "0x" + String(bytes[index], radix: 16, uppercase: true)
        return Diagnostic(
            .error, at: at,
            "not UTF-8 text: byte \(byte) here is not part of a UTF-8 character; save the file as UTF-8 (it was perhaps saved as GBK or Latin-1)"
        )
    }

    /// Where the top-level `key:` of a workflow's source is written (1:1 if nowhere), for a
    /// problem that concerns the whole file, such as an id another file also has.
    public static func keyLocation(_ key: String, in source: String, file: String) -> SourceLocation {
        if let root = composeYAML(source, file: file, DiagnosticSink()),
            let entry = YAMLMapping(root, file: file).entries.first(where: { $0.key == key })
        {
            return entry.keyLocation
        }
        return SourceLocation(file: file, line: 1, column: 1)
    }

    /// Parses and checks `source`; `file` is the path shown in diagnostics.
    /// `appliesLaterLimits: false` is for a version a store already holds: one stored before
    /// durations had a maximum (`WorkflowDuration.maximumDays`) must still load, or its
    /// store could not be opened.
    public static func load(source: String, file: String, appliesLaterLimits: Bool = true) -> Result {
        let sink = DiagnosticSink()
        sink.appliesLaterLimits = appliesLaterLimits
        guard let root = composeYAML(source, file: file, sink) else {
            return Result(workflow: nil, diagnostics: sink.diagnostics)
        }
        var parser = WorkflowParser(file: file, sink: sink)
        let draft = parser.parse(root)
        var workflow: Workflow?
        if let draft, sink.errorCount == 0 {
            let compiled = draft.build()
            WorkflowAnalyzer(workflow: compiled, sourceMap: draft.sourceMap, sink: sink).run()
            if sink.errorCount == 0 {
                WorkflowWarnings(workflow: compiled, sourceMap: draft.sourceMap, sink: sink).run()
                workflow = compiled
            }
        }
        return Result(workflow: workflow, diagnostics: sink.diagnostics.sortedByLocation)
    }
}

/// Where each part of a workflow was written, for the analyzer's messages.
struct SourceMap {
    var root: SourceLocation
    var phases: [SourceLocation] = []
    /// Each parsed branch's name, and its steps' names.
    var branches: [SourceLocation] = []
    var steps: [[SourceLocation]] = []
    var joins: [[SourceLocation]] = []
    var joinBranches: [[[SourceLocation]]] = []
    var deadlines: [SourceLocation] = []
    var deadlineFrom: [SourceLocation] = []
    var close: SourceLocation
}
