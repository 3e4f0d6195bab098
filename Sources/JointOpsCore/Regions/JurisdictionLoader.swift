/// Reads a jurisdiction file: YAML text in, a `JurisdictionTree` and every problem found
/// (as `FILE:LINE:COLUMN` diagnostics) out, in the manner of `WorkflowLoader`.
///
/// The format, one entry per region keyed by its id, parents before or after children:
///
/// ```yaml
/// regions:
///   tianjin: {level: city, name: {zh: 天津市公安局, en: Tianjin PSB}}
///   hexi: {parent: tianjin, level: district, name: {zh: 河西分局, en: Hexi Branch}}
///   hexi-liulin: {parent: hexi, level: station, name: {zh: 柳林派出所, en: Liulin Station}}
/// ```
///
/// `level` is `city`, `district`, `station`, `grid` or `command` (see `RegionLevel`);
/// `name` is a string or `{zh, en}`; exactly one region, the root, has no `parent`.
public enum JurisdictionLoader {
    public struct Result: Sendable {
        /// Nil when any error was found.
        public var tree: JurisdictionTree?
        /// Errors, in file order.
        public var diagnostics: [Diagnostic]
    }

    public static func load(source: String, file: String) -> Result {
        let sink = DiagnosticSink()
        let read = ScalarReaders(sink: sink)
        guard let root = composeYAML(source, file: file, sink, emptyHint: "a jurisdiction file starts with 'regions:'"),
            let top = read.mapping(root, "a jurisdiction file")
        else { return Result(tree: nil, diagnostics: sink.diagnostics) }
        top.check(allowed: ["regions", "description"], required: ["regions"], in: "the jurisdiction file", sink)
        _ = top["description"].flatMap { read.string($0, "'description'") }
        guard let regionsValue = top["regions"], let regions = read.mapping(regionsValue, "'regions'") else {
            return Result(tree: nil, diagnostics: sink.diagnostics.sortedByLocation)
        }
        var definitions: [RegionDefinition] = []
        var places: [(key: SourceLocation, parent: SourceLocation?)] = []
        var incomplete = false
        for entry in regions.entries {
            let keyValue = YAMLValue(node: .init(entry.key), location: entry.keyLocation)
            let id = read.identifier(keyValue, "region id", allowDash: true)
            let context = "region '\(entry.key)'"
            guard let fields = read.mapping(entry.value, context) else {
                incomplete = true
                continue
            }
            fields.check(allowed: ["parent", "level", "name"], required: ["level", "name"], in: context, sink)
            let level = fields["level"].flatMap { read.choice($0, "the level of \(context)", RegionLevel.allCases.map(\.rawValue)) }
                .flatMap(RegionLevel.init(rawValue:))
            let name = fields["name"].flatMap { read.title($0, "the name of \(context)") }
            let parentValue = fields["parent"]
            let parent = parentValue.flatMap { read.identifier($0, "parent of \(context)", allowDash: true) }
            guard let id, let level, let name, parentValue == nil || parent != nil else {
                incomplete = true
                continue
            }
            definitions.append(RegionDefinition(id: id, level: level, name: name, parent: parent))
            places.append((entry.keyLocation, parentValue?.textLocation))
        }
        if definitions.isEmpty, !incomplete {
            sink.error(regionsValue.location, "'regions' is empty; define at least the root region (the city)")
        }
        // Structural checks only on what was read cleanly, so one typo is reported once.
        if !incomplete {
            for problem in RegionProblem.find(in: definitions) {
                let message = problem.message(definitions) { "at line \(places[$0].key.line)" }
                sink.error(location(of: problem, places: places, regions: regionsValue.location), message)
            }
        }
        let tree = sink.errorCount == 0 && !definitions.isEmpty ? JurisdictionTree(checked: definitions) : nil
        return Result(tree: tree, diagnostics: sink.diagnostics.sortedByLocation)
    }

    private static func location(
        of problem: RegionProblem, places: [(key: SourceLocation, parent: SourceLocation?)], regions: SourceLocation
    ) -> SourceLocation {
        switch problem {
        case .duplicate(let index, _), .secondRoot(let index, _): places[index].key
        case .unknownParent(let index, _), .levelNotDeeper(let index, _, _): places[index].parent ?? places[index].key
        case .cycle(let members): places[members[0]].parent ?? places[members[0]].key
        case .noRoot: regions
        }
    }
}
