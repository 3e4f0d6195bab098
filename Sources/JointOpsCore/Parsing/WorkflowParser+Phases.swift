extension WorkflowParser {
    /// The phases; each also accepts the workflow-wide events (`everywhere`) it does not
    /// define itself, unless the event leads to it.
    func parsePhases(_ value: YAMLValue, everywhere: [EventDefinition], _ sourceMap: inout SourceMap) -> ([PhaseDefinition], Int) {
        guard let mapping = read.mapping(value, "'phases'"), read.isWithinLimit(mapping, value, "phases") else { return ([], 0) }
        var phases: [PhaseDefinition] = []
        var initial: [(Int, SourceLocation)] = []
        for entry in mapping.entries {
            guard let index = phaseNames.firstIndex(of: entry.key), index == phases.count else { continue }
            let (phase, isInitial, joinLocations, joinBranches) = parsePhase(entry.key, entry.value, index: index, everywhere: everywhere)
            if isInitial { initial.append((index, entry.keyLocation)) }
            phases.append(phase)
            sourceMap.phases.append(entry.keyLocation)
            sourceMap.joins.append(joinLocations)
            sourceMap.joinBranches.append(joinBranches)
        }
        if initial.isEmpty, !phases.isEmpty {
            sink.error(value.location, "no phase is initial; mark the phase every operation starts in with 'initial: true'")
        } else if initial.count > 1 {
            sink.error(
                initial[1].1,
                "phase '\(phaseNames[initial[1].0])' is a second initial phase (the first is '\(phaseNames[initial[0].0])'); only one phase may be initial"
            )
        }
        return (phases, initial.first?.0 ?? 0)
    }

    private func parsePhase(
        _ name: String, _ value: YAMLValue, index: Int, everywhere: [EventDefinition]
    )
        -> (PhaseDefinition, Bool, [SourceLocation], [[SourceLocation]])
    {
        let context = "phase '\(name)'"
        var phase = PhaseDefinition(name: name, title: nil, events: [], dispatch: [], joins: [], timers: [])
        func addEverywhere() {
            for event in everywhere
            where phase.event(named: event.name) == nil && !event.alternatives.contains(where: { $0.target == index }) {
                phase.events.append(event)
            }
        }
        // A phase with no keys at all (`reviewing:`) is allowed: it only waits for close.
        if let scalar = value.scalar, scalar.string.isEmpty {
            addEverywhere()
            return (phase, false, [], [])
        }
        guard let fields = read.mapping(value, context) else { return (phase, false, [], []) }
        fields.check(allowed: ["initial", "title", "on", "dispatch", "join", "after", "stand_down"], in: context, sink)
        phase.title = fields["title"].flatMap { read.title($0, "the title of \(context)") }
        if let on = fields["on"] { phase.events = parseEvents(on, of: context) }
        addEverywhere()
        phase.standsDown = fields["stand_down"].flatMap { read.bool($0, "'stand_down' of \(context)") } ?? false
        if let dispatch = fields["dispatch"] { phase.dispatch = parseDispatch(dispatch, phase: name) }
        var joinLocations: [SourceLocation] = []
        var joinBranches: [[SourceLocation]] = []
        if let join = fields["join"] {
            for item in read.list(join, "'join' of \(context)") ?? [] {
                if let (rule, branchLocations) = parseJoin(item, phase: name) {
                    phase.joins.append(rule)
                    joinLocations.append(item.location)
                    joinBranches.append(branchLocations)
                }
            }
        }
        if let after = fields["after"] {
            for item in read.list(after, "'after' of \(context)") ?? [] {
                guard let timer = read.mapping(item, "a timer of \(context)") else { continue }
                timer.check(allowed: ["delay", "event"], required: ["delay", "event"], in: "a timer of \(context)", sink)
                guard let delay = timer["delay"].flatMap({ read.duration($0, "'delay'") }),
                    let eventValue = timer["event"], let event = read.identifier(eventValue, "event name")
                else { continue }
                if phase.event(named: event) == nil {
                    sink.error(
                        eventValue.textLocation,
                        "the timer fires event '\(event)', which \(context) does not accept\(Suggestions.hint(for: event, in: phase.events.map(\.name), noun: "it accepts"))"
                    )
                    continue
                }
                phase.timers.append(PhaseTimer(delay: delay, event: event))
            }
        }
        let isInitial = fields["initial"].flatMap { read.bool($0, "'initial'") } ?? false
        return (phase, isInitial, joinLocations, joinBranches)
    }

    /// The events of `context` ("phase 'x'", or "the workflow" for those every phase accepts).
    func parseEvents(_ value: YAMLValue, of context: String) -> [EventDefinition] {
        guard let mapping = read.mapping(value, "'on' of \(context)") else { return [] }
        var events: [EventDefinition] = []
        for entry in mapping.entries {
            let keyValue = YAMLValue(node: .init(entry.key), location: entry.keyLocation)
            guard let event = read.identifier(keyValue, "event name") else { continue }
            guard !events.contains(where: { $0.name == event }) else {
                sink.error(entry.keyLocation, "duplicate event '\(event)' in \(context); list guarded alternatives under one event")
                continue
            }
            let what = "event '\(event)' of \(context)"
            var alternatives: [TransitionDefinition] = []
            switch entry.value.node {
            case .scalar:
                if let target = self.phase(entry.value, what) { alternatives.append(TransitionDefinition(target: target)) }
            case .sequence:
                // The first alternative with no guard is always taken: none after it ever is.
                var unguarded: SourceLocation?
                for item in read.list(entry.value, what) ?? [] {
                    guard let transition = parseTransition(item, what) else { continue }
                    if let unguarded {
                        sink.warning(
                            item.location,
                            "this alternative of \(what) is never chosen: the one at line \(unguarded.line) has no 'when', and the first alternative whose guard holds is taken; list the guarded alternatives first"
                        )
                    } else if transition.guardCondition == nil || transition.guardSource == "true" {
                        unguarded = item.location
                    }
                    alternatives.append(transition)
                }
            default:
                if let transition = parseTransition(entry.value, what) { alternatives.append(transition) }
            }
            if !alternatives.isEmpty { events.append(EventDefinition(name: event, alternatives: alternatives)) }
        }
        return events
    }

    private func parseTransition(_ value: YAMLValue, _ what: String) -> TransitionDefinition? {
        guard let fields = read.mapping(value, what) else { return nil }
        fields.check(allowed: ["to", "when", "title"], required: ["to"], in: what, sink)
        guard let target = fields["to"].flatMap({ phase($0, what) }) else { return nil }
        let condition = fields["when"].flatMap(guardCondition)
        if fields["when"] != nil, condition == nil { return nil }
        return TransitionDefinition(
            target: target, guardSource: condition?.0, guardCondition: condition?.1,
            title: fields["title"].flatMap { read.title($0, "the title of \(what)") })
    }

    private func parseDispatch(_ value: YAMLValue, phase: String) -> [DispatchRule] {
        let what = "'dispatch' of phase '\(phase)'"
        let items = value.scalar != nil ? [value] : (read.list(value, what) ?? [])
        var rules: [DispatchRule] = []
        // Where each branch was first listed with no guard: a later entry of it is never used.
        var unguarded: [Int: SourceLocation] = [:]
        for item in items {
            if item.scalar != nil {
                guard let branch = branch(item, what) else { continue }
                if let first = unguarded[branch] {
                    reportDispatchedAgain(branch, at: item.textLocation, first: first, phase: phase)
                    continue
                }
                unguarded[branch] = item.textLocation
                rules.append(DispatchRule(branch: branch))
                continue
            }
            guard let fields = read.mapping(item, "an entry of \(what)") else { continue }
            fields.check(
                allowed: ["branch", "when", "units", "region", "capabilities"], required: ["branch"], in: "an entry of \(what)", sink)
            guard let branch = fields["branch"].flatMap({ branch($0, what) }) else { continue }
            let condition = fields["when"].flatMap(guardCondition)
            if fields["when"] != nil, condition == nil { continue }
            if let first = unguarded[branch] {
                reportDispatchedAgain(branch, at: item.location, first: first, phase: phase)
                continue
            }
            if condition == nil || condition?.0 == "true" { unguarded[branch] = item.location }
            rules.append(
                DispatchRule(
                    branch: branch, guardSource: condition?.0, guardCondition: condition?.1,
                    units: fields["units"].flatMap { read.integer($0, "'units'", minimum: 1, maximum: ScalarReaders.mostUnits) },
                    region: fields["region"].flatMap { read.string($0, "'region'") },
                    capabilities: fields["capabilities"].map { capabilities($0, "'capabilities' of an entry of \(what)") } ?? []))
        }
        return rules
    }

    /// A branch listed again after an entry of it with no `when`: entering the phase starts
    /// one instance of a branch (an entry for a branch already active is skipped), so the
    /// later entry would never be used.
    private func reportDispatchedAgain(_ branch: Int, at location: SourceLocation, first: SourceLocation, phase: String) {
        let name = branchNames[branch]
        sink.error(
            location,
            "branch '\(name)' is already dispatched in phase '\(phase)' (at line \(first.line)), and entering a phase starts one instance of a branch: this entry would never be used; to send it to two regions, define two branches (a YAML anchor shares the steps: 'steps: &\(name)_steps' on the first, 'steps: *\(name)_steps' on the second)"
        )
    }

    private func parseJoin(_ value: YAMLValue, phase: String) -> (JoinRule, [SourceLocation])? {
        let what = "a join of phase '\(phase)'"
        guard let fields = read.mapping(value, what) else { return nil }
        fields.check(allowed: ["all", "any", "of", "to"], required: ["to"], in: what, sink)
        let quantifier: JoinRule.Quantifier
        let conditionValue: YAMLValue
        switch (fields["all"], fields["any"]) {
        case (let all?, nil): (quantifier, conditionValue) = (.all, all)
        case (nil, let any?): (quantifier, conditionValue) = (.any, any)
        case (_?, _?):
            sink.error(value.location, "\(what) has both 'all' and 'any'; a join waits for one of them")
            return nil
        case (nil, nil):
            sink.error(value.location, "\(what) needs 'all: STATUS' or 'any: STATUS' (completed, failed, stood_down, ended)")
            return nil
        }
        guard let conditionName = read.choice(conditionValue, "the status \(what) waits for", JoinRule.Condition.allCases.map(\.rawValue)),
            let condition = JoinRule.Condition(rawValue: conditionName),
            let target = fields["to"].flatMap({ self.phase($0, what) })
        else { return nil }
        var of: [Int]?
        var locations: [SourceLocation] = []
        if let ofValue = fields["of"] {
            let items = ofValue.scalar != nil ? [ofValue] : (read.list(ofValue, "'of' of \(what)") ?? [])
            of = []
            for item in items {
                if let branch = branch(item, "'of' of \(what)") {
                    of?.append(branch)
                    locations.append(item.textLocation)
                }
            }
        }
        return (JoinRule(quantifier: quantifier, condition: condition, of: of, target: target), locations)
    }
}

extension TransitionDefinition {
    init(target: Int) { self.init(target: target, guardSource: nil, guardCondition: nil, title: nil) }
}

extension DispatchRule {
    init(branch: Int) { self.init(branch: branch, guardSource: nil, guardCondition: nil, units: nil, region: nil) }
}
