/// The checks and events of each operator command.
extension OperationState {
    /// The phase a phase event leads to now: the first alternative whose guard holds.
    func target(of event: String) throws(Refusal) -> Int {
        guard case .phase(let current) = phase else { throw refusal(.operationEnded, "operation \(id) has ended") }
        guard let definition = workflow.phases[current].event(named: event) else {
            let accepted = workflow.phases[current].events.map(\.name)
            let elsewhere = workflow.phases.filter { $0.event(named: event) != nil }.map { "'\($0.name)'" }
            let known =
                elsewhere.isEmpty
                ? "no phase of workflow '\(workflow.id)' accepts it" : "it is accepted in \(elsewhere.joined(separator: ", "))"
            throw refusal(
                .eventNotAccepted,
                "event '\(event)' is not accepted in phase '\(phaseName)' (\(known))\(Suggestions.closest(to: event, in: accepted).map { "; did you mean '\($0)'?" } ?? "")"
            )
        }
        for alternative in definition.alternatives where alternative.guardCondition?.evaluate(in: self) ?? true {
            return alternative.target
        }
        let guards = definition.alternatives.compactMap(\.guardSource).map { "'\($0)'" }.joined(separator: ", ")
        throw refusal(.guardNotSatisfied, "event '\(event)' is refused: no guard holds (\(guards))")
    }

    func advanceTarget(_ name: String, to: String?, outcome: String?) throws(Refusal) -> (Int, Int, String?) {
        let index = try activeInstance(name)
        let instance = branches[index]
        let definition = workflow.branches[instance.definition]
        let current = definition.steps[instance.step]
        let choices = current.reachableDirectly.map { definition.steps[$0].name }
        switch (to, outcome) {
        case (let to?, nil):
            guard let step = definition.step(named: to), current.reachableDirectly.contains(step) else {
                let unknown =
                    definition.step(named: to) == nil
                    ? "branch '\(definition.name)' has no step '\(to)'"
                    : "branch '\(instance.name)' cannot go from '\(current.name)' to '\(to)'"
                throw refusal(.stepNotAllowed, "\(unknown); from '\(current.name)' it can go to: \(choices.joined(separator: ", "))")
            }
            return (index, step, nil)
        case (nil, let outcome?):
            guard let match = current.outcomes.first(where: { $0.name == outcome }) else {
                let names = current.outcomes.map(\.name)
                let listed =
                    names.isEmpty
                    ? "step '\(current.name)' has no outcomes; advance with a step (\(choices.joined(separator: ", ")))"
                    : "outcomes of '\(current.name)': \(names.joined(separator: ", "))"
                throw refusal(.stepNotAllowed, "branch '\(instance.name)' has no outcome '\(outcome)' at step '\(current.name)'; \(listed)")
            }
            return (index, match.target, outcome)
        default:
            throw refusal(.invalidArgument, "advance needs exactly one of a step ('to') or an outcome")
        }
    }

    /// The index of an active instance by its name (`swat`, `swat#2`).
    func activeInstance(_ name: String) throws(Refusal) -> Int {
        guard let index = instance(named: name) else {
            if workflow.branch(named: name) != nil {
                throw refusal(.branchNotActive, "branch '\(name)' has not been dispatched in operation \(id)")
            }
            throw refusal(
                .unknownBranch,
                "operation \(id) has no branch '\(name)'\(Suggestions.hint(for: name, in: branches.map(\.name), noun: "its branches"))")
        }
        guard branches[index].status == .active else {
            throw refusal(.branchNotActive, "branch '\(name)' has already ended (\(branches[index].status.rawValue))")
        }
        return index
    }

    mutating func reinforce(_ name: String, units: Int?, region: String?, _ context: inout DecisionContext) throws(Refusal) {
        guard let branch = workflow.branch(named: name) else {
            throw refusal(
                .unknownBranch,
                "workflow '\(workflow.id)' has no branch '\(name)'\(Suggestions.hint(for: name, in: workflow.branches.map(\.name), noun: "branches"))"
            )
        }
        guard workflow.reinforceable.contains(branch) else {
            let names = workflow.reinforceable.map { workflow.branches[$0].name }
            throw refusal(
                .notReinforceable,
                "branch '\(name)' cannot be added at run time; workflow '\(workflow.id)' allows reinforcing \(names.isEmpty ? "no branch" : names.joined(separator: ", "))"
            )
        }
        if let units, units < 1 { throw refusal(.invalidArgument, "units must be at least 1", parameter: "units") }
        if let region, region.isBlank {
            throw refusal(.invalidArgument, "the region is empty; give a jurisdiction id", parameter: "region")
        }
        emit(
            .branchDispatched(
                branch: branch, region: region ?? self.region, units: units ?? workflow.branches[branch].units, reason: .reinforcement),
            &context)
    }

    mutating func reassign(_ newRegion: String, branch: String?, _ context: inout DecisionContext) throws(Refusal) {
        guard workflow.reassignAllowed else {
            throw refusal(.notAllowed, "workflow '\(workflow.id)' does not allow reassigning the region")
        }
        guard !newRegion.isBlank else {
            throw refusal(.invalidArgument, "the region is empty; give a jurisdiction id", parameter: "region")
        }
        if let branch {
            let index = try activeInstance(branch)
            guard branches[index].region != newRegion else {
                throw refusal(.invalidArgument, "branch '\(branch)' is already in region '\(newRegion)'")
            }
            emit(.regionReassigned(instance: index, region: newRegion), &context)
        } else {
            guard region != newRegion else { throw refusal(.invalidArgument, "operation \(id) is already in region '\(newRegion)'") }
            emit(.regionReassigned(instance: nil, region: newRegion), &context)
        }
    }

    func openEscalation(_ target: AcknowledgeTarget) throws(Refusal) -> Int {
        let candidates: [Escalation]
        switch target {
        case .escalation(let number):
            candidates = escalations.filter { $0.number == number }
            guard !candidates.isEmpty else {
                throw refusal(.unknownEscalation, "operation \(id) has no escalation \(number)")
            }
        case .deadline(let name):
            guard let deadline = workflow.deadline(named: name) else {
                throw refusal(
                    .unknownEscalation,
                    "workflow '\(workflow.id)' has no deadline '\(name)'\(Suggestions.hint(for: name, in: workflow.deadlines.map(\.id), noun: "deadlines"))"
                )
            }
            candidates = escalations.filter { $0.timer?.index == deadline }
            guard !candidates.isEmpty else { throw refusal(.unknownEscalation, "deadline '\(name)' has not been missed") }
            // One deadline of several branch instances (public_order, public_order#2) can be
            // missed by each: which one is meant is the operator's to say, not the first's.
            let waiting = candidates.filter { $0.isOpen && $0.acknowledgedAt == nil }
            if waiting.count > 1 {
                let listed = waiting.map { escalation in
                    let instance = escalation.timer.flatMap { $0.instance >= 0 ? branches[$0.instance].name : nil }
                    return "\(escalation.number)\(instance.map { " (\($0))" } ?? "")"
                }
                throw refusal(
                    .unknownEscalation,
                    "deadline '\(name)' has \(waiting.count) open escalations: \(listed.joined(separator: ", ")); acknowledge one by its number (jointopsctl acknowledge \(id) \(waiting[0].number))"
                )
            }
        }
        guard let open = candidates.first(where: { $0.isOpen && $0.acknowledgedAt == nil }) else {
            throw refusal(
                .unknownEscalation, "escalation \(candidates[0].number) is already \(candidates[0].isOpen ? "acknowledged" : "resolved")")
        }
        return open.number
    }

    mutating func cancel(_ reason: String, _ context: inout DecisionContext) throws(Refusal) {
        guard !reason.isBlank else { throw refusal(.invalidReason, "a cancellation needs a reason") }
        if let reasons = workflow.cancelReasons, !reasons.contains(reason) {
            throw refusal(
                .invalidReason,
                "'\(reason)' is not a cancel reason of workflow '\(workflow.id)'\(Suggestions.closest(to: reason, in: reasons).map { "; did you mean '\($0)'?" } ?? ""); reasons: \(reasons.joined(separator: ", "))"
            )
        }
        for index in branches.indices where branches[index].status == .active {
            emit(
                .stepEntered(instance: index, step: workflow.branches[branches[index].definition].standDownStep, outcome: "cancelled"),
                &context)
        }
        emit(.cancelled(reason: reason), &context)
    }

    mutating func close(_ disposition: String, _ context: inout DecisionContext) throws(Refusal) {
        guard case .phase(let current) = phase, workflow.closeFrom.contains(current) else {
            let from = workflow.closeFrom.map { workflow.phases[$0].name }.joined(separator: ", ")
            throw refusal(.notAllowed, "operation \(id) cannot close in phase '\(phaseName)'; it closes from: \(from)")
        }
        guard workflow.dispositions.contains(disposition) else {
            throw refusal(
                .invalidReason,
                "'\(disposition)' is not a disposition of workflow '\(workflow.id)'\(Suggestions.closest(to: disposition, in: workflow.dispositions).map { "; did you mean '\($0)'?" } ?? ""); dispositions: \(workflow.dispositions.joined(separator: ", "))"
            )
        }
        let active = branches.filter { $0.status == .active }
        guard active.isEmpty else {
            let list = active.map { "\($0.name) at \(workflow.branches[$0.definition].steps[$0.step].name)" }.joined(separator: ", ")
            throw refusal(
                .branchesActive, "operation \(id) cannot close while branches are still active (\(list)); complete or stand them down first"
            )
        }
        emit(.closed(disposition: disposition), &context)
    }
}

extension OperationState {
    /// Changes attributes given as text, read as at the start. An empty text removes an
    /// optional attribute (it goes back to its default, if it has one). In the current phase,
    /// a dispatch whose guard the change makes hold dispatches its branch now, as entering
    /// the phase would; while on hold such a change is refused, as a dispatch would be.
    mutating func setAttributes(_ texts: [String: String], _ context: inout DecisionContext) throws(Refusal) {
        guard !texts.isEmpty else {
            throw refusal(.invalidArgument, "set needs at least one attribute, e.g. weapon_involved=true")
        }
        if let problem = Self.unknownAttributeProblem(texts.keys, in: workflow) { throw refusal(.invalidAttribute, problem) }
        var changes: [AttributeChange] = []
        var unchanged: [String] = []
        for (index, definition) in workflow.attributes.enumerated() {
            guard let text = texts[definition.name] else { continue }
            let value: AttributeValue?
            if text.isEmpty {
                guard !definition.required else {
                    throw refusal(
                        .invalidAttribute, "attribute '\(definition.name)' is required by workflow '\(workflow.id)'; it cannot be removed")
                }
                value = definition.defaultValue
            } else {
                switch Self.attributeValue(text, of: definition) {
                case .success(let parsed): value = parsed
                case .failure(let problem): throw refusal(.invalidAttribute, problem.reason)
                }
            }
            if value == attributes[index] {
                unchanged.append("\(definition.name) is already \(value.map { Self.quoted($0.description) } ?? "unset")")
            } else {
                changes.append(AttributeChange(attribute: index, from: attributes[index], to: value))
            }
        }
        guard !changes.isEmpty else { throw refusal(.invalidArgument, unchanged.joined(separator: "; ") + ": nothing changes") }
        // `handle` refuses an ended operation, so it is in a phase.
        guard case .phase(let current) = phase else { throw refusal(.operationEnded, "operation \(id) has ended") }
        let rules = workflow.phases[current].dispatch
        let heldBefore = rules.map { $0.guardCondition?.evaluate(in: self) ?? true }
        var changed = self
        changed.apply(RecordedEvent(at: context.at, actor: context.actor, event: .attributesChanged(changes)))
        let newlyHolding = rules.indices.filter { !heldBefore[$0] && (rules[$0].guardCondition?.evaluate(in: changed) ?? true) }
        if let hold {
            var dispatched: [String] = []
            for rule in newlyHolding.map({ rules[$0] })
            where !branches.contains(where: { $0.definition == rule.branch && $0.status == .active }) {
                let name = workflow.branches[rule.branch].name
                if !dispatched.contains(name) { dispatched.append(name) }
            }
            guard dispatched.isEmpty else {
                throw refusal(
                    .onHold,
                    "operation \(id) is on hold since \(hold.since) (\(hold.reason)) and this change would dispatch \(dispatched.joined(separator: ", ")); resume it first"
                )
            }
        }
        emit(.attributesChanged(changes), &context)
        dispatch(newlyHolding.map { rules[$0] }, &context)
    }
}
