extension WorkflowParser {
    func parseDeadlines(_ value: YAMLValue, _ sourceMap: inout SourceMap) -> [DeadlineDefinition] {
        var deadlines: [DeadlineDefinition] = []
        // Where each id was first written, whether or not that deadline had an error.
        var ids: [String: SourceLocation] = [:]
        for item in read.list(value, "'deadlines'") ?? [] {
            guard let fields = read.mapping(item, "a deadline") else { continue }
            let idValue = fields["id"]
            let id = idValue.flatMap { read.identifier($0, "deadline id") }
            let context = id.map { "deadline '\($0)'" } ?? "a deadline"
            fields.check(
                allowed: ["id", "title", "reach", "from", "within", "escalation", "reescalate"],
                required: ["id", "reach", "from", "within"], in: context, sink)
            guard let id, let idValue else { continue }
            if let first = ids[id] {
                sink.error(
                    idValue.textLocation, "duplicate deadline '\(id)' (first at line \(first.line)); give each deadline an id of its own")
                continue
            }
            ids[id] = idValue.textLocation
            guard let reachValue = fields["reach"], let reach = moment(reachValue, "'reach' of \(context)"),
                let fromValue = fields["from"], let from = moment(fromValue, "'from' of \(context)"),
                let within = fields["within"].flatMap({ read.duration($0, "'within' of \(context)") })
            else { continue }
            if reach == .started {
                sink.error(
                    reachValue.textLocation,
                    "\(context) cannot be reached at 'started': the operation has already started when any deadline is armed")
                continue
            }
            if from == .closed {
                sink.error(fromValue.textLocation, "\(context) cannot be measured from 'closed': nothing happens after an operation closes")
                continue
            }
            if let a = reach.branch, let b = from.branch, a != b {
                sink.error(
                    fromValue.textLocation,
                    "\(context) measures branch '\(branchNames[a])' from a step of branch '\(branchNames[b])'; measure it from the same branch, a phase, or 'started'"
                )
                continue
            }
            var ladder: [EscalationRung] = []
            if let escalation = fields["escalation"] { ladder = parseLadder(escalation, context) }
            deadlines.append(
                DeadlineDefinition(
                    id: id, title: fields["title"].flatMap { read.title($0, "the title of \(context)") }, reach: reach,
                    from: from, within: within, ladder: ladder,
                    reescalate: fields["reescalate"].flatMap { read.duration($0, "'reescalate' of \(context)") },
                    branch: reach.branch ?? from.branch))
            sourceMap.deadlines.append(idValue.textLocation)
            sourceMap.deadlineFrom.append(fromValue.textLocation)
        }
        return deadlines
    }

    /// `started`, `closed`, a phase name, or `BRANCH.STEP`.
    private func moment(_ value: YAMLValue, _ what: String) -> Moment? {
        guard let text = read.string(value, what) else { return nil }
        if text == "started" { return .started }
        if text == "closed" { return .closed }
        if let dot = text.firstIndex(of: ".") {
            let branchName = String(text[..<dot])
            let stepName = String(text[text.index(after: dot)...])
            guard let branch = branchNames.firstIndex(of: branchName) else {
                sink.error(
                    value.textLocation,
                    "\(what) names undefined branch '\(branchName)'\(Suggestions.hint(for: branchName, in: branchNames, noun: "branches"))")
                return nil
            }
            guard let step = stepNames[branch].firstIndex(of: stepName) else {
                sink.error(
                    value.textLocation.advanced(by: branchName.count + 1),
                    "\(what) names undefined step '\(stepName)' of branch '\(branchName)'\(Suggestions.hint(for: stepName, in: stepNames[branch], noun: "steps"))"
                )
                return nil
            }
            return .step(branch: branch, step: step)
        }
        if let phase = phaseNames.firstIndex(of: text) { return .phase(phase) }
        sink.error(
            value.textLocation,
            "\(what) '\(text)' is not a moment: write 'started', a phase name, BRANCH.STEP or 'closed'\(Suggestions.closest(to: text, in: phaseNames + ["started", "closed"]).map { "; did you mean '\($0)'?" } ?? "")"
        )
        return nil
    }

    func parseLadder(_ value: YAMLValue, _ context: String) -> [EscalationRung] {
        var rungs: [EscalationRung] = []
        for item in read.list(value, "'escalation' of \(context)") ?? [] {
            let what = "an escalation rung of \(context)"
            guard let fields = read.mapping(item, what) else { continue }
            fields.check(allowed: ["after", "notify", "reinforce", "event"], required: ["after"], in: what, sink)
            guard let afterValue = fields["after"], let after = read.duration(afterValue, "'after'", allowZero: true) else { continue }
            let actions = ["notify", "reinforce", "event"].filter { fields[$0] != nil }
            guard actions.count == 1 else {
                sink.error(
                    item.location,
                    "\(what) must have exactly one action of notify, reinforce or event; found \(actions.isEmpty ? "none" : actions.joined(separator: " and "))"
                )
                continue
            }
            let actionValue = fields[actions[0]]!
            var action: EscalationRung.Action?
            switch actions[0] {
            case "notify": action = read.identifier(actionValue, "audience").map { .notify($0) }
            case "reinforce": action = branch(actionValue, "'reinforce' of \(what)").map { .reinforce($0) }
            default:
                if let event = read.identifier(actionValue, "event name") {
                    if eventNames.contains(event) {
                        action = .event(event)
                    } else {
                        sink.error(
                            actionValue.textLocation,
                            "\(what) fires event '\(event)', which no phase accepts\(Suggestions.hint(for: event, in: eventNames.sorted(), noun: "events"))"
                        )
                    }
                }
            }
            guard let action else { continue }
            if let previous = rungs.last, after.approximateMilliseconds <= previous.after.approximateMilliseconds {
                sink.error(
                    afterValue.textLocation,
                    "escalation rungs of \(context) must come later and later; 'after: \(after)' is not after the previous rung's \(previous.after)"
                )
                continue
            }
            rungs.append(EscalationRung(after: after, action: action))
        }
        return rungs
    }
}

extension WorkflowParser {
    /// The default clock for a branch that awaits units: 5 minutes, then the duty commander.
    static let defaultAwaitingUnits = (
        within: WorkflowDuration.fixed(milliseconds: 5 * 60_000),
        ladder: [EscalationRung(after: .zero, action: .notify("duty_commander"))]
    )

    /// `awaiting_units: {within: 5m, escalation: [...], reescalate: 10m}`: one deadline per
    /// branch, `awaiting_units:BRANCH`, armed when an instance of it awaits units and met
    /// when it has them all (the default when the key is absent: `defaultAwaitingUnits`).
    func awaitingUnitsDeadlines(
        _ value: YAMLValue?, _ branches: [BranchDefinition], at root: SourceLocation, _ sourceMap: inout SourceMap
    ) -> [DeadlineDefinition] {
        var within = Self.defaultAwaitingUnits.within
        var ladder = Self.defaultAwaitingUnits.ladder
        var reescalate: WorkflowDuration?
        var location = root
        if let value, let fields = read.mapping(value, "'awaiting_units'") {
            location = value.location
            fields.check(allowed: ["within", "escalation", "reescalate"], required: ["within"], in: "'awaiting_units'", sink)
            if let parsed = fields["within"].flatMap({ read.duration($0, "'within' of 'awaiting_units'") }) { within = parsed }
            if let escalation = fields["escalation"] { ladder = parseLadder(escalation, "'awaiting_units'") }
            reescalate = fields["reescalate"].flatMap { read.duration($0, "'reescalate' of 'awaiting_units'") }
        }
        return branches.indices.map { branch in
            sourceMap.deadlines.append(location)
            sourceMap.deadlineFrom.append(location)
            return DeadlineDefinition(
                id: "awaiting_units:\(branches[branch].name)", title: Title(en: "\(branches[branch].name) awaiting units"),
                reach: .unitsFilled(branch: branch), from: .unitsAwaited(branch: branch), within: within, ladder: ladder,
                reescalate: reescalate, branch: branch)
        }
    }
}
