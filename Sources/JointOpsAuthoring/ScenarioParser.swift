public import JointOpsCore
import Yams

/// Reads a scenario file, reporting problems as `FILE:LINE:COLUMN` diagnostics.
public enum ScenarioParser {
    /// With `workflow`, what the scenario names (its workflow id, start attributes, and the
    /// phases, branches, steps and deadlines it expects) is checked against that workflow too.
    public static func parse(source: String, file: String, workflow: Workflow? = nil) -> (Scenario?, [Diagnostic]) {
        let sink = DiagnosticSink()
        let read = ScalarReaders(sink: sink)
        guard let root = composeYAML(source, file: file, sink), let top = read.mapping(root, "a scenario file") else {
            return (nil, sink.diagnostics)
        }
        if top["scenario"] == nil, let phases = top.entries.first(where: { $0.key == "phases" }) {
            sink.error(phases.keyLocation, "this looks like a workflow file (it has 'phases'); pass a scenario file to --scenario")
            return (nil, sink.diagnostics)
        }
        let names = workflow.map { ScenarioNames(workflow: $0, read: read, sink: sink) }
        top.check(
            allowed: ["scenario", "workflow", "start", "timeline"], required: ["scenario", "start", "timeline"], in: "the scenario", sink)
        var scenario = Scenario(
            name: top["scenario"].flatMap { read.string($0, "'scenario'") } ?? "",
            workflow: top["workflow"].flatMap { read.string($0, "'workflow'") },
            operationID: "OP-1", region: "", startAt: Scenario.defaultStart, attributes: [:], timeline: [])
        if let value = top["workflow"] { names?.workflowID(value) }
        if let startValue = top["start"], let start = read.mapping(startValue, "'start'") {
            start.check(allowed: ["id", "region", "at", "attributes"], required: ["id", "region"], in: "'start'", sink)
            scenario.operationID = start["id"].flatMap { read.string($0, "'id'") } ?? "OP-1"
            scenario.region = start["region"].flatMap { read.string($0, "'region'") } ?? ""
            if let atValue = start["at"], let text = read.string(atValue, "'at'") {
                if let instant = ISO8601.parse(text) {
                    scenario.startAt = instant
                } else {
                    let reason = ISO8601.problem(text).map { " (\($0))" } ?? ""
                    sink.error(atValue.textLocation, "'at' must be a time like 2026-11-29T08:00:00+08:00; found '\(text)'\(reason)")
                }
            }
            let attributes = start["attributes"].flatMap { read.mapping($0, "'attributes'") }
            for entry in attributes?.entries ?? [] {
                scenario.attributes[entry.key] = entry.value.scalar?.string ?? read.string(entry.value, "attribute '\(entry.key)'")
            }
            // (Attributes that are not a mapping were reported as such.)
            if start["attributes"] == nil || attributes != nil { names?.startAttributes(attributes, start: startValue) }
        }
        var previous: Int64 = 0
        for item in top["timeline"].flatMap({ read.list($0, "'timeline'") }) ?? [] {
            guard let entry = EntryReader(read: read, sink: sink, names: names).entry(item) else { continue }
            if entry.offset < previous {
                sink.error(
                    entry.location,
                    "timeline entries must not go back in time: \(WorkflowDuration.fixed(milliseconds: entry.offset)) comes after \(WorkflowDuration.fixed(milliseconds: previous))"
                )
            }
            previous = max(previous, entry.offset)
            scenario.timeline.append(entry)
        }
        // What else the engine refuses at the start (the operation id, the region) is said at 'start'.
        if let workflow, sink.errorCount == 0, let startValue = top["start"] {
            do {
                _ = try OperationState.start(
                    workflow, id: scenario.operationID, region: scenario.region, attributes: scenario.attributes, at: scenario.startAt,
                    actor: nil)
            } catch {
                sink.error(startValue.location, "the operation cannot start: \(error.reason)")
            }
        }
        return (sink.errorCount == 0 ? scenario : nil, sink.diagnostics.sortedByLocation)
    }
}

/// Reads one timeline entry: `at` and exactly one command or `expect`.
private struct EntryReader {
    let read: ScalarReaders
    let sink: DiagnosticSink
    /// The workflow's names, when the scenario is read for one.
    let names: ScenarioNames?

    static let commands = [
        "fire", "advance", "reinforce", "reassign", "hold", "resume", "escalate", "acknowledge", "note", "set", "cancel", "close",
    ]

    func entry(_ value: YAMLValue) -> Scenario.Entry? {
        guard let fields = read.mapping(value, "a timeline entry") else { return nil }
        fields.check(allowed: ["at", "refused"] + Self.commands + ["expect"], required: ["at"], in: "a timeline entry", sink)
        guard let offset = fields["at"].flatMap({ read.duration($0, "'at'", allowZero: true) }) else { return nil }
        let actions = (Self.commands + ["expect"]).filter { fields[$0] != nil }
        guard actions.count == 1, let actionValue = fields[actions[0]] else {
            sink.error(
                value.location,
                "a timeline entry needs exactly one of \((Self.commands + ["expect"]).joined(separator: ", ")); found \(actions.isEmpty ? "none" : actions.joined(separator: " and "))"
            )
            return nil
        }
        let refused = fields["refused"].flatMap { read.string($0, "'refused'") }
        let action: Scenario.Action
        if actions[0] == "expect" {
            guard let expectation = expectation(actionValue) else { return nil }
            action = .expect(expectation)
        } else {
            guard let command = command(actions[0], actionValue) else { return nil }
            // A command expected to be refused may name what the workflow lacks on purpose.
            if refused == nil, let names { check(command, actionValue, names) }
            action = .command(command, refused: refused)
        }
        return Scenario.Entry(offset: offset.approximateMilliseconds, action: action, location: value.location)
    }

    private func command(_ name: String, _ value: YAMLValue) -> Command? {
        func fields(_ allowed: [String], required: [String]) -> YAMLMapping? {
            guard let mapping = read.mapping(value, "'\(name)'") else { return nil }
            mapping.check(allowed: allowed, required: required, in: "'\(name)'", sink)
            return mapping
        }
        func text(_ mapping: YAMLMapping, _ key: String) -> String? { mapping[key].flatMap { read.string($0, "'\(key)'") } }
        switch name {
        case "fire": return read.string(value, "'fire'").map { .fire(event: $0) }
        case "note": return read.string(value, "'note'").map { .note($0) }
        case "hold": return read.string(value, "'hold'").map { .hold(reason: $0) }
        case "resume": return .resume
        case "set":
            // Attribute name → value, as at `start` (an empty value removes an optional one).
            guard let mapping = read.mapping(value, "'set'") else { return nil }
            var values: [String: String] = [:]
            for entry in mapping.entries {
                guard let text = entry.value.scalar?.string ?? read.string(entry.value, "attribute '\(entry.key)'") else { continue }
                values[entry.key] = text
            }
            guard !values.isEmpty else {
                sink.error(value.location, "'set' needs at least one attribute: NAME: VALUE")
                return nil
            }
            return .setAttributes(values)
        case "advance":
            guard let f = fields(["branch", "to", "outcome"], required: ["branch"]), let branch = text(f, "branch") else { return nil }
            return .advance(branch: branch, to: text(f, "to"), outcome: text(f, "outcome"))
        case "reinforce":
            guard let f = fields(["branch", "units", "region"], required: ["branch"]), let branch = text(f, "branch") else { return nil }
            return .reinforce(
                branch: branch, units: f["units"].flatMap { read.integer($0, "'units'", minimum: 1, maximum: ScalarReaders.mostUnits) }, region: text(f, "region"))
        case "reassign":
            guard let f = fields(["region", "branch"], required: ["region"]), let region = text(f, "region") else { return nil }
            return .reassign(region: region, branch: text(f, "branch"))
        case "escalate":
            guard let f = fields(["reason", "to"], required: ["reason"]), let reason = text(f, "reason") else { return nil }
            return .escalate(reason: reason, to: text(f, "to"))
        case "acknowledge":
            guard let f = fields(["deadline", "escalation"], required: []) else { return nil }
            if let deadline = text(f, "deadline") { return .acknowledge(.deadline(deadline)) }
            if let number = f["escalation"].flatMap({ read.integer($0, "'escalation'", minimum: 1) }) {
                return .acknowledge(.escalation(number))
            }
            sink.error(value.location, "'acknowledge' needs 'deadline: ID' or 'escalation: N'")
            return nil
        case "cancel":
            guard let f = fields(["reason"], required: ["reason"]), let reason = text(f, "reason") else { return nil }
            return .cancel(reason: reason)
        default:
            guard let f = fields(["disposition"], required: ["disposition"]), let disposition = text(f, "disposition") else { return nil }
            return .close(disposition: disposition)
        }
    }

    /// What a command names that the workflow must have: its event, branch, step,
    /// deadline, cancel reason or disposition (regions are the daemon's, not the workflow's).
    private func check(_ command: Command, _ value: YAMLValue, _ names: ScenarioNames) {
        let fields: YAMLMapping? = if case .mapping = value.node { YAMLMapping(value, file: value.location.file) } else { nil }
        func at(_ key: String) -> YAMLValue { fields?[key] ?? value }
        switch command {
        case .fire(let event): names.event(value, event)
        case .advance(let instance, let step, _):
            if let branch = names.branch(instance, at: at("branch").textLocation), let step { names.step(at("to"), step, of: branch) }
        case .reinforce(let branch, _, _): _ = names.branch(branch, at: at("branch").textLocation)
        case .reassign(_, let instance?): _ = names.branch(instance, at: at("branch").textLocation)
        case .acknowledge(.deadline(let id)): names.deadline(at("deadline"), id)
        case .cancel(let reason): names.cancelReason(at("reason"), reason)
        case .close(let disposition): names.disposition(at("disposition"), disposition)
        case .setAttributes: names.attributes(fields, emptyRemoves: true)
        default: break
        }
    }

    private func expectation(_ value: YAMLValue) -> Scenario.Expectation? {
        guard let fields = read.mapping(value, "'expect'") else { return nil }
        fields.check(allowed: ["phase", "steps", "statuses", "escalations", "held"], in: "'expect'", sink)
        var expectation = Scenario.Expectation()
        if let value = fields["phase"], let phase = read.string(value, "'phase'") {
            names?.phase(value, phase)
            expectation.phase = phase
        }
        for entry in fields["steps"].flatMap({ read.mapping($0, "'steps'") })?.entries ?? [] {
            let branch = names?.branch(entry.key, at: entry.keyLocation)
            guard let step = read.string(entry.value, "the step of '\(entry.key)'") else { continue }
            if let branch { names?.step(entry.value, step, of: branch) }
            expectation.steps.append((entry.key, step))
        }
        for entry in fields["statuses"].flatMap({ read.mapping($0, "'statuses'") })?.entries ?? [] {
            _ = names?.branch(entry.key, at: entry.keyLocation)
            let statuses = BranchStatus.allCases.map(\.rawValue)
            guard let status = read.choice(entry.value, "the status of '\(entry.key)'", statuses) else { continue }
            expectation.statuses.append((entry.key, status))
        }
        if let escalations = fields["escalations"] {
            expectation.escalations = (read.list(escalations, "'escalations'") ?? []).compactMap { item in
                let text = read.string(item, "an escalation")
                if let text { names?.escalation(item, text) }
                return text
            }
        }
        expectation.held = fields["held"].flatMap { read.bool($0, "'held'") }
        return expectation
    }
}
