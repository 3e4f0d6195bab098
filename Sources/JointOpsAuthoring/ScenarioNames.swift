import JointOpsCore

/// Checks what a scenario names against the workflow it runs with — its id, start
/// attributes, the events, branches, steps, deadlines, cancel reasons and dispositions its
/// commands name, and the phases, branches, steps and deadlines its expectations name — so a
/// mistake is reported where it is written, before anything runs, rather than as a
/// puzzling failure at run time ("has not been dispatched" for a misspelt branch).
struct ScenarioNames {
    let workflow: Workflow
    let read: ScalarReaders
    let sink: DiagnosticSink

    func workflowID(_ value: YAMLValue) {
        guard let id = read.string(value, "'workflow'"), id != workflow.id else { return }
        sink.error(
            value.textLocation,
            "this scenario is for workflow '\(id)', not '\(workflow.id)'; simulate it with that workflow's file, or correct 'workflow:'")
    }

    /// Each attribute named must be the workflow's and read as its type; every required one
    /// without a default must be there (reported at `attributes`, or at `start` without it).
    func startAttributes(_ attributes: YAMLMapping?, start: YAMLValue) {
        self.attributes(attributes)
        let given = Set(attributes?.entries.map(\.key) ?? [])
        let missing = workflow.attributes.filter { $0.required && $0.defaultValue == nil && !given.contains($0.name) }.map(\.name)
        guard !missing.isEmpty else { return }
        let list = missing.map { "'\($0)'" }.joined(separator: ", ")
        sink.error(
            attributes?.value.location ?? start.location,
            missing.count == 1
                ? "attribute \(list) is required by workflow '\(workflow.id)'; add it to 'attributes'"
                : "attributes \(list) are required by workflow '\(workflow.id)'; add them to 'attributes'")
    }

    /// Attribute names the workflow has, with values of their types (`start`'s and `set`'s;
    /// `set` may give an empty value, which removes an optional attribute).
    func attributes(_ attributes: YAMLMapping?, emptyRemoves: Bool = false) {
        for entry in attributes?.entries ?? [] {
            guard let index = workflow.attribute(named: entry.key) else {
                let names = workflow.attributes.map(\.name)
                sink.error(
                    entry.keyLocation,
                    "workflow '\(workflow.id)' has no attribute '\(entry.key)'\(Suggestions.hint(for: entry.key, in: names, noun: "attributes"))"
                )
                continue
            }
            let definition = workflow.attributes[index]
            guard let text = entry.value.scalar?.string, !(emptyRemoves && text.isEmpty),
                case .failure(let error) = AttributeValue.parse(text, as: definition.type)
            else { continue }
            sink.error(entry.value.textLocation, "attribute '\(definition.name)' must be \(error.expected); found '\(text)'")
        }
    }

    func phase(_ value: YAMLValue, _ name: String) {
        let names = workflow.phases.map(\.name) + ["closed", "cancelled"]
        guard !names.contains(name) else { return }
        sink.error(
            value.textLocation, "workflow '\(workflow.id)' has no phase '\(name)'\(Suggestions.hint(for: name, in: names, noun: "phases"))")
    }

    /// A branch instance, `NAME` or `NAME#N`: the index of the branch it is an instance of.
    func branch(_ instance: String, at location: SourceLocation) -> Int? {
        let name = instance.split(separator: "#", maxSplits: 1).first.map(String.init) ?? instance
        if let index = workflow.branch(named: name) { return index }
        let names = workflow.branches.map(\.name)
        sink.error(
            location, "workflow '\(workflow.id)' has no branch '\(name)'\(Suggestions.hint(for: name, in: names, noun: "branches"))")
        return nil
    }

    func step(_ value: YAMLValue, _ name: String, of branch: Int) {
        let definition = workflow.branches[branch]
        let names = definition.steps.map(\.name)
        guard !names.contains(name) else { return }
        sink.error(
            value.textLocation,
            "branch '\(definition.name)' has no step '\(name)'\(Suggestions.hint(for: name, in: names, noun: "steps"))")
    }

    /// `DEADLINE/RUNG`: a deadline of the workflow and one of its rungs, counted from 1.
    func escalation(_ value: YAMLValue, _ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, let rung = Int(parts[1]), rung >= 1 else {
            sink.error(value.textLocation, "an escalation is written DEADLINE/RUNG, e.g. on_scene/1; found '\(text)'")
            return
        }
        guard let index = workflow.deadline(named: parts[0]) else { return deadline(value, parts[0]) }
        let deadline = workflow.deadlines[index]
        guard rung > deadline.ladder.count else { return }
        let rungs = deadline.ladder.count == 1 ? "1 escalation rung" : "\(deadline.ladder.count) escalation rungs"
        sink.error(value.textLocation.advanced(by: parts[0].count + 1), "deadline '\(deadline.id)' has \(rungs), not \(rung)")
    }

    /// An event some phase of the workflow takes (whether the phase is current then is the
    /// run's business: a command fired in the wrong phase is refused, as it would be live).
    func event(_ value: YAMLValue, _ name: String) {
        var names: [String] = []
        for phase in workflow.phases {
            for event in phase.events where !names.contains(event.name) { names.append(event.name) }
        }
        guard !names.contains(name) else { return }
        sink.error(
            value.textLocation, "workflow '\(workflow.id)' has no event '\(name)'\(Suggestions.hint(for: name, in: names, noun: "events"))")
    }

    func deadline(_ value: YAMLValue, _ id: String) {
        guard workflow.deadline(named: id) == nil else { return }
        let ids = workflow.deadlines.map(\.id)
        sink.error(
            value.textLocation, "workflow '\(workflow.id)' has no deadline '\(id)'\(Suggestions.hint(for: id, in: ids, noun: "deadlines"))")
    }

    func disposition(_ value: YAMLValue, _ name: String) {
        let names = workflow.dispositions
        guard !names.contains(name) else { return }
        sink.error(
            value.textLocation,
            "workflow '\(workflow.id)' has no disposition '\(name)'\(Suggestions.hint(for: name, in: names, noun: "dispositions"))")
    }

    /// A cancel reason, where the workflow lists the reasons it accepts.
    func cancelReason(_ value: YAMLValue, _ reason: String) {
        guard let reasons = workflow.cancelReasons, !reasons.contains(reason) else { return }
        sink.error(
            value.textLocation,
            "workflow '\(workflow.id)' has no cancel reason '\(reason)'\(Suggestions.hint(for: reason, in: reasons, noun: "cancel reasons"))"
        )
    }
}
