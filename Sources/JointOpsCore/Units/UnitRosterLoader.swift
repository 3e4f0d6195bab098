/// Reads a roster file (YAML or CSV) into units, checking each against the jurisdiction:
/// `FILE:LINE:COLUMN` diagnostics for every problem, and no units at all if there is one.
///
/// YAML, one entry per unit keyed by its id:
///
/// ```yaml
/// units:
///   hx-swat-01: {call_sign: 河西特警1组, branch: swat, home_region: hexi-swat, capabilities: [armed]}
///   ll-po-01: {call_sign: 柳林巡逻1, branch: public_order, home_region: hexi-liulin}
/// ```
///
/// CSV, a header row naming the columns (any order; `capabilities` may be left out),
/// capabilities separated by `;`, fields quoted with `"` when they contain a comma,
/// blank lines and lines starting with `#` ignored:
///
/// ```
/// id,call_sign,branch,home_region,capabilities
/// hx-swat-01,河西特警1组,swat,hexi-swat,armed;negotiator
/// ```
///
/// `branch` is a workflow branch kind; `home_region` an id of the tree. Add the units to a
/// `UnitRoster` with `add` (which refuses ids it already has).
public enum UnitRosterLoader {
    public struct Result: Sendable {
        /// Nil when any error was found.
        public var units: [Unit]?
        public var diagnostics: [Diagnostic]
        /// Where each unit of `units` is written (its id), for problems found later (an id
        /// the roster already has).
        public var locations: [SourceLocation] = []
    }

    static let kinds = BranchDefinition.Kind.allCases.map(\.rawValue)

    public static func loadYAML(source: String, file: String, tree: JurisdictionTree) -> Result {
        let sink = DiagnosticSink()
        let read = ScalarReaders(sink: sink)
        guard let root = composeYAML(source, file: file, sink, emptyHint: "a roster file starts with 'units:'"),
            let top = read.mapping(root, "a roster file")
        else { return Result(units: nil, diagnostics: sink.diagnostics) }
        top.check(allowed: ["units", "description"], required: ["units"], in: "the roster file", sink)
        var units: [Unit] = []
        var locations: [SourceLocation] = []
        if let value = top["units"], let entries = read.mapping(value, "'units'") {
            for entry in entries.entries {
                let keyValue = YAMLValue(node: .init(entry.key), location: entry.keyLocation)
                let id = read.identifier(keyValue, "unit id", allowDash: true)
                let context = "unit '\(entry.key)'"
                guard let fields = read.mapping(entry.value, context) else { continue }
                fields.check(
                    allowed: ["call_sign", "branch", "home_region", "capabilities"], required: ["call_sign", "branch", "home_region"],
                    in: context, sink)
                let callSign = fields["call_sign"].flatMap { read.string($0, "the call sign of \(context)") }
                let kind = fields["branch"].flatMap { read.choice($0, "the branch of \(context)", kinds) }
                    .flatMap(BranchDefinition.Kind.init(rawValue:))
                let home = fields["home_region"].flatMap { value in
                    read.string(value, "the home region of \(context)").flatMap {
                        region($0, of: context, tree: tree, at: value.textLocation, sink)
                    }
                }
                let capabilities = fields["capabilities"].map { read.identifierList($0, "capability of \(context)").map(\.0) } ?? []
                if let id, let callSign, let kind, let home {
                    units.append(Unit(id: id, callSign: callSign, kind: kind, homeRegion: home, capabilities: Set(capabilities)))
                    locations.append(entry.keyLocation)
                }
            }
        }
        return Result(
            units: sink.errorCount == 0 ? units : nil, diagnostics: sink.diagnostics.sortedByLocation,
            locations: sink.errorCount == 0 ? locations : [])
    }

    public static func loadCSV(source: String, file: String, tree: JurisdictionTree) -> Result {
        let sink = DiagnosticSink()
        var units: [Unit] = []
        var locations: [SourceLocation] = []
        var columns: [String: Int]?
        var seen: [String: Int] = [:]
        let required = ["id", "call_sign", "branch", "home_region"]
        // Lines end in LF, CRLF (a spreadsheet's export) or CR: "\r\n" is one Character, so
        // splitting on "\n" alone left a CRLF file one line long.
        for (offset, line) in source.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let number = offset + 1
            let text = line
            if text.allSatisfy(\.isWhitespace) || text.hasPrefix("#") { continue }
            let (fields, unclosed) = splitCSV(text)
            func at(_ column: Int) -> SourceLocation { SourceLocation(file: file, line: number, column: column) }
            if let unclosed {
                sink.error(at(unclosed), "the quote opened here is not closed; add the closing '\"' (a field cannot span lines)")
                continue
            }
            guard let header = columns else {
                var found: [String: Int] = [:]
                for (index, field) in fields.enumerated() {
                    let name = field.text.trimmingSpaces
                    let known = required + ["capabilities"]
                    if !known.contains(name) {
                        sink.error(at(field.column), "unknown column '\(name)'\(Suggestions.hint(for: name, in: known, noun: "columns"))")
                    } else if found[name] != nil {
                        sink.error(at(field.column), "column '\(name)' appears twice in the header")
                    } else {
                        found[name] = index
                    }
                }
                for name in required where found[name] == nil {
                    sink.error(
                        at(1), "the header lacks column '\(name)'; it needs \(required.joined(separator: ",")) and may add capabilities")
                }
                columns = found
                if sink.errorCount > 0 { return Result(units: nil, diagnostics: sink.diagnostics.sortedByLocation) }
                continue
            }
            func field(_ name: String) -> (text: String, column: Int)? {
                guard let index = header[name] else { return nil }
                guard index < fields.count else {
                    sink.error(
                        at(text.count + 1), "line has \(fields.count) fields but the header names \(header.count); '\(name)' is missing")
                    return nil
                }
                return (fields[index].text.trimmingSpaces, fields[index].column)
            }
            guard let id = field("id"), let callSign = field("call_sign"), let branch = field("branch"), let home = field("home_region")
            else { continue }
            if fields.count > header.count {
                sink.error(at(fields[header.count].column), "line has \(fields.count) fields but the header names \(header.count)")
                continue
            }
            var valid = true
            if !ScalarReaders.isIdentifier(id.text, allowDash: true) {
                sink.error(
                    at(id.column), "'\(id.text)' is not a valid unit id: use lowercase letters, digits, '_' and '-', starting with a letter"
                )
                valid = false
            } else if let first = seen[id.text] {
                sink.error(at(id.column), "duplicate unit '\(id.text)' (first at line \(first)); give each unit its own id")
                valid = false
            } else {
                seen[id.text] = number
            }
            if callSign.text.isEmpty {
                sink.error(at(callSign.column), "unit '\(id.text)' needs a call sign")
                valid = false
            }
            let kind = BranchDefinition.Kind(rawValue: branch.text)
            if kind == nil {
                sink.error(
                    at(branch.column),
                    "the branch of unit '\(id.text)' must be one of \(kinds.joined(separator: ", ")); found '\(branch.text)'\(Suggestions.closest(to: branch.text, in: kinds).map { "; did you mean '\($0)'?" } ?? "")"
                )
            }
            let region = region(home.text, of: "unit '\(id.text)'", tree: tree, at: at(home.column), sink)
            var capabilities: Set<String> = []
            if let caps = field("capabilities"), !caps.text.isEmpty {
                for name in caps.text.split(separator: ";").map({ String($0).trimmingSpaces }) {
                    if ScalarReaders.isIdentifier(name) {
                        capabilities.insert(name)
                    } else {
                        sink.error(
                            at(caps.column),
                            "'\(name)' is not a valid capability of unit '\(id.text)': use lowercase letters, digits and '_', separate capabilities with ';'"
                        )
                        valid = false
                    }
                }
            }
            if valid, let kind, let region {
                units.append(Unit(id: id.text, callSign: callSign.text, kind: kind, homeRegion: region, capabilities: capabilities))
                locations.append(at(id.column))
            }
        }
        if columns == nil {
            sink.error(
                SourceLocation(file: file, line: 1, column: 1),
                "the file is empty; a roster CSV starts with the header id,call_sign,branch,home_region,capabilities")
        }
        return Result(
            units: sink.errorCount == 0 ? units : nil, diagnostics: sink.diagnostics.sortedByLocation,
            locations: sink.errorCount == 0 ? locations : [])
    }

    private static func region(
        _ id: String, of context: String, tree: JurisdictionTree, at location: SourceLocation, _ sink: DiagnosticSink
    )
        -> String?
    {
        guard tree.contains(id) else {
            sink.error(location, "the home region of \(context): \(tree.unknownRegionMessage(id))")
            return nil
        }
        return id
    }

    /// Splits a CSV line into fields with the 1-based column where each starts.
    /// A line's fields with their columns, and the column of a quote left open, if any.
    static func splitCSV(_ line: Substring) -> (fields: [(text: String, column: Int)], unclosedQuote: Int?) {
        var fields: [(String, Int)] = []
        var current = ""
        var start = 1
        var column = 1
        var quoted = false
        var quoteColumn = 0
        var characters = line.makeIterator()
        var pending = characters.next()
        while let character = pending {
            pending = characters.next()
            if quoted {
                if character == "\"" {
                    if pending == "\"" {
                        current.append("\"")
                        pending = characters.next()
                        column += 1
                    } else {
                        quoted = false
                    }
                } else {
                    current.append(character)
                }
            } else if character == "\"" && current.isEmpty {
                quoted = true
                quoteColumn = column
            } else if character == "," {
                fields.append((current, start))
                current = ""
                start = column + 1
            } else {
                current.append(character)
            }
            column += 1
        }
        fields.append((current, start))
        return (fields, quoted ? quoteColumn : nil)
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
