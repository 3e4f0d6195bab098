/// Reads a workflow's YAML tree into a `WorkflowDraft`, reporting every structural error.
///
/// Names are declared first (attributes, phases, branches and their steps) so references
/// resolve whatever order the author wrote the sections in.
struct WorkflowParser {
    let file: String
    let sink: DiagnosticSink
    var read: ScalarReaders { ScalarReaders(sink: sink) }

    var attributes: [AttributeDefinition] = []
    var phaseNames: [String] = []
    var phaseValues: [YAMLValue] = []
    var branchNames: [String] = []
    var stepNames: [[String]] = []
    var eventNames: Set<String> = []

    static let topLevelKeys = [
        "workflow", "version", "title", "description", "timezone", "attributes", "phases", "branches",
        "deadlines", "hold", "reinforce", "reassign", "cancel", "close", "awaiting_units", "on",
    ]

    init(file: String, sink: DiagnosticSink) {
        self.file = file
        self.sink = sink
    }

    mutating func parse(_ root: YAMLValue) -> WorkflowDraft? {
        guard let top = read.mapping(root, "a workflow file") else { return nil }
        if top["phases"] == nil, let key = top.entries.first(where: { $0.key == "timeline" || $0.key == "scenario" }) {
            reportScenario(top, key: key.key, at: key.keyLocation)
            return nil
        }
        top.check(allowed: Self.topLevelKeys, required: ["workflow", "version", "title", "phases", "close"], in: "the workflow", sink)
        var draft = WorkflowDraft(sourceMap: SourceMap(root: root.location, close: root.location))
        draft.id = top["workflow"].flatMap { read.identifier($0, "workflow id", allowDash: true) } ?? ""
        draft.version = top["version"].flatMap { read.integer($0, "'version'", minimum: 1) } ?? 1
        draft.title = top["title"].flatMap { read.title($0, "'title'") } ?? Title()
        draft.description = top["description"].flatMap { read.string($0, "'description'") }
        if let zone = top["timezone"] { draft.timezoneOffsetSeconds = timezone(zone) }

        if let value = top["attributes"] { attributes = parseAttributes(value) }
        draft.attributes = attributes
        if let value = top["branches"] { declareBranches(value) }
        if let value = top["phases"] { declarePhases(value) }

        draft.branches = top["branches"].map { parseBranches($0, &draft.sourceMap) } ?? []
        let reinforceable = top["reinforce"].map { branchList($0, "'reinforce'") } ?? []
        draft.reinforceable = reinforceable
        // Events every phase accepts (`found` ends a search from wherever it stands).
        let everywhere = top["on"].map { parseEvents($0, of: "the workflow") } ?? []
        if let phases = top["phases"] {
            (draft.phases, draft.initialPhase) = parsePhases(phases, everywhere: everywhere, &draft.sourceMap)
        }
        draft.deadlines = top["deadlines"].map { parseDeadlines($0, &draft.sourceMap) } ?? []
        draft.deadlines += awaitingUnitsDeadlines(top["awaiting_units"], draft.branches, at: root.location, &draft.sourceMap)
        draft.hold = top["hold"].flatMap(parseHold) ?? .default
        draft.reassignAllowed = top["reassign"].flatMap { read.bool($0, "'reassign'") } ?? true
        draft.cancelReasons = top["cancel"].flatMap(parseCancel)
        if let close = top["close"] {
            draft.sourceMap.close = close.location
            (draft.closeFrom, draft.dispositions) = parseClose(close)
        }
        return draft
    }

    /// A scenario given where a workflow was expected: one error saying how to run it, rather
    /// than every workflow key it lacks.
    private func reportScenario(_ top: YAMLMapping, key: String, at location: SourceLocation) {
        let workflow = top["workflow"]?.scalar.map { ", WORKFLOW being the file of workflow '\($0.string)'" } ?? ""
        sink.error(
            location,
            "this looks like a scenario (it has '\(key)'), not a workflow; run it with jointopsctl workflow simulate WORKFLOW --scenario \(file)\(workflow)"
        )
    }

    private func timezone(_ value: YAMLValue) -> Int {
        guard let text = read.string(value, "'timezone'") else { return 8 * 3600 }
        let chars = Array(text)
        guard chars.count == 6, chars[0] == "+" || chars[0] == "-", chars[3] == ":",
            let hours = Int(String(chars[1...2])), let minutes = Int(String(chars[4...5])), hours <= 14, minutes < 60
        else {
            sink.error(value.textLocation, "invalid 'timezone' '\(text)': write an offset from UTC such as +08:00")
            return 8 * 3600
        }
        return (hours * 3600 + minutes * 60) * (chars[0] == "-" ? -1 : 1)
    }

    // MARK: Name resolution shared by every section

    func phase(_ value: YAMLValue, _ what: String) -> Int? {
        guard let name = read.string(value, what) else { return nil }
        if let index = phaseNames.firstIndex(of: name) { return index }
        if name == "closed" || name == "cancelled" {
            sink.error(
                value.textLocation,
                "\(what) cannot be '\(name)': an operation reaches '\(name)' only with the \(name == "closed" ? "close" : "cancel") command"
            )
        } else {
            sink.error(
                value.textLocation, "\(what) names undefined phase '\(name)'\(Suggestions.hint(for: name, in: phaseNames, noun: "phases"))")
        }
        return nil
    }

    func branch(_ value: YAMLValue, _ what: String) -> Int? {
        guard let name = read.string(value, what) else { return nil }
        if let index = branchNames.firstIndex(of: name) { return index }
        sink.error(
            value.textLocation, "\(what) names undefined branch '\(name)'\(Suggestions.hint(for: name, in: branchNames, noun: "branches"))")
        return nil
    }

    func branchList(_ value: YAMLValue, _ what: String) -> [Int] {
        let items = value.scalar != nil ? [value] : (read.list(value, what) ?? [])
        return items.compactMap { branch($0, what) }
    }

    var guardSymbols: GuardSymbols {
        GuardSymbols(
            attributes: attributes.map { ($0.name, $0.type) },
            branches: zip(branchNames, stepNames).map { ($0, $1) })
    }

    /// Compiles a `when:` guard, reporting errors at their column within the text.
    func guardCondition(_ value: YAMLValue) -> (String, Guard)? {
        let text: String
        if let scalar = value.scalar, scalar.style == .plain, scalar.string == "true" || scalar.string == "false" {
            text = scalar.string
        } else {
            guard let string = read.string(value, "'when'") else { return nil }
            text = string
        }
        do {
            return (text, try GuardCompiler.compile(text, symbols: guardSymbols))
        } catch {
            let (location, exact) = value.location(ofCharacter: error.offset)
            sink.error(location, exact ? error.message : "\(error.message) (in the guard that starts here)")
            return nil
        }
    }
}

/// Everything the parser read, before compilation into a `Workflow`.
struct WorkflowDraft {
    var id = ""
    var version = 1
    var title = Title()
    var description: String?
    var timezoneOffsetSeconds = 8 * 3600
    var attributes: [AttributeDefinition] = []
    var phases: [PhaseDefinition] = []
    var initialPhase = 0
    var branches: [BranchDefinition] = []
    var deadlines: [DeadlineDefinition] = []
    var hold = HoldPolicy.default
    var reinforceable: [Int] = []
    var reassignAllowed = true
    var cancelReasons: [String]?
    var closeFrom: [Int] = []
    var dispositions: [String] = []
    var sourceMap: SourceMap

    func build() -> Workflow {
        Workflow(
            id: id, version: version, title: title, description: description,
            timezoneOffsetSeconds: timezoneOffsetSeconds, attributes: attributes, phases: phases,
            initialPhase: initialPhase, branches: branches, deadlines: deadlines, hold: hold,
            reinforceable: reinforceable, reassignAllowed: reassignAllowed, cancelReasons: cancelReasons,
            closeFrom: closeFrom, dispositions: dispositions)
    }
}
