/// Events as self-describing JSON payloads for the event log: names, not indexes, so the
/// audit trail reads on its own and survives a reader that has only the workflow's source.
extension OperationState {
    /// The payload of `event`, which this state has already applied (so every instance it
    /// names exists).
    public func payload(of event: OperationEvent) -> JSONValue {
        var fields: [String: JSONValue] = [:]
        switch event {
        case .started(let operation, let workflowID, let version, let region, let attributes):
            fields = [
                "operation": .string(operation), "workflow": .string(workflowID), "version": .int(Int64(version)),
                "region": .string(region),
            ]
            var values: [String: JSONValue] = [:]
            for (index, value) in attributes.enumerated() {
                guard let value else { continue }
                values[workflow.attributes[index].name] = value.json
            }
            fields["attributes"] = .object(values)
        case .phaseEntered(let phase, let cause):
            fields["phase"] = .string(workflow.phases[phase].name)
            switch cause {
            case .start: fields["cause"] = .string("start")
            case .join: fields["cause"] = .string("join")
            case .event(let name):
                fields["cause"] = .string("event")
                fields["event"] = .string(name)
            }
        case .branchDispatched(let branch, let region, let units, let reason, let capabilities):
            fields = [
                "branch": .string(workflow.branches[branch].name), "region": .string(region), "units": .int(Int64(units)),
                "reason": .string(reason.rawValue),
            ]
            // Only when the dispatch added some: earlier events, without the key, read the same.
            if !capabilities.isEmpty { fields["capabilities"] = .array(capabilities.map(JSONValue.string)) }
        case .stepEntered(let instance, let step, let outcome):
            fields = [
                "instance": .string(branches[instance].name),
                "step": .string(workflow.branches[branches[instance].definition].steps[step].name),
            ]
            if let outcome { fields["outcome"] = .string(outcome) }
        case .regionReassigned(let instance, let region):
            fields["region"] = .string(region)
            if let instance { fields["instance"] = .string(branches[instance].name) }
        case .held(let reason):
            fields["reason"] = .string(reason)
        case .resumed:
            break
        case .deadlineMissed(let key, let escalation, let lateness):
            fields = [
                "deadline": .string(workflow.deadlines[key.index].id), "escalation": .int(Int64(escalation)), "lateness_ms": .int(lateness),
            ]
            if key.instance >= 0 { fields["instance"] = .string(branches[key.instance].name) }
        case .escalated(let escalation, let rung, let lateness, let refusal):
            fields = ["escalation": .int(Int64(escalation)), "rung": .int(Int64(rung + 1)), "lateness_ms": .int(lateness)]
            if let refusal { fields["refusal"] = .string(refusal) }
        case .escalationRaised(let escalation, let reason, let audience):
            fields = ["escalation": .int(Int64(escalation)), "reason": .string(reason), "audience": .string(audience)]
        case .escalationAcknowledged(let escalation):
            fields["escalation"] = .int(Int64(escalation))
        case .phaseTimerElapsed(let key, let lateness, let refusal):
            fields = [
                "phase": .string(workflow.phases[key.instance].name), "timer": .int(Int64(key.index + 1)),
                "event": .string(workflow.phases[key.instance].timers[key.index].event), "lateness_ms": .int(lateness),
            ]
            if let refusal { fields["refusal"] = .string(refusal) }
        case .noted(let text):
            fields["text"] = .string(text)
        case .attributesChanged(let changes):
            // A list in attribute order; null for no value (before it was set, or removed).
            fields["changes"] = .array(
                changes.map {
                    .object([
                        "attribute": .string(workflow.attributes[$0.attribute].name), "from": $0.from?.json ?? .null,
                        "to": $0.to?.json ?? .null,
                    ])
                })
        case .cancelled(let reason):
            fields["reason"] = .string(reason)
        case .closed(let disposition):
            fields["disposition"] = .string(disposition)
        case .rated(let rating):
            fields = [
                "before": .int(Int64(rating.before)), "during": .int(Int64(rating.during)), "after": .int(Int64(rating.after)),
                "score": .int(Int64(rating.score)), "comment": .string(rating.comment),
            ]
        case .unitsAssigned(let instance, let units, let reasons):
            fields = [
                "instance": .string(branches[instance].name), "units": .array(units.map(JSONValue.string)),
                "reasons": .array(reasons.map(JSONValue.string)),
            ]
        case .unitsAwaited(let instance, let missing, let capabilities):
            fields = [
                "instance": .string(branches[instance].name), "missing": .int(Int64(missing)),
                "capabilities": .array(capabilities.map(JSONValue.string)),
            ]
        case .unitsReleased(let instance, let units, let status, let reason):
            fields = [
                "instance": .string(branches[instance].name), "units": .array(units.map(JSONValue.string)),
                "status": .string(status.rawValue),
            ]
            if let reason { fields["reason"] = .string(reason) }
        case .unitPreempted(let instance, let unit, let by, let reason):
            fields = ["instance": .string(branches[instance].name), "unit": .string(unit), "by": .string(by), "reason": .string(reason)]
        }
        return .object(fields)
    }

    /// Reads an event back from its kind and payload, against this state as it was just
    /// before the event (so instance names resolve). Nil when the payload does not fit the
    /// workflow: the log and the workflow version disagree.
    public func event(kind: String, payload: JSONValue) -> OperationEvent? {
        func text(_ key: String) -> String? { payload[key]?.stringValue }
        func number(_ key: String) -> Int? { payload[key]?.intValue.map { Int($0) } }
        func instance(_ key: String) -> Int? { text(key).flatMap(self.instance(named:)) }
        func strings(_ key: String) -> [String]? {
            guard let items = payload[key]?.arrayValue else { return nil }
            let texts = items.compactMap(\.stringValue)
            return texts.count == items.count ? texts : nil
        }
        switch kind {
        case "started":
            return Self.startedEvent(workflow, payload)
        case "phase_entered":
            guard let phase = text("phase").flatMap(workflow.phase(named:)) else { return nil }
            switch text("cause") {
            case "start": return .phaseEntered(phase, cause: .start)
            case "join": return .phaseEntered(phase, cause: .join)
            case "event": return text("event").map { .phaseEntered(phase, cause: .event($0)) }
            default: return nil
            }
        case "branch_dispatched":
            guard let branch = text("branch").flatMap(workflow.branch(named:)), let region = text("region"), let units = number("units"),
                let reason = text("reason").flatMap(DispatchReason.init(rawValue:))
            else { return nil }
            return .branchDispatched(
                branch: branch, region: region, units: units, reason: reason, capabilities: strings("capabilities") ?? [])
        case "step_entered":
            guard let index = instance("instance"),
                let step = text("step").flatMap(workflow.branches[branches[index].definition].step(named:))
            else { return nil }
            return .stepEntered(instance: index, step: step, outcome: text("outcome"))
        case "region_reassigned":
            guard let region = text("region") else { return nil }
            if payload["instance"] != nil {
                guard let index = instance("instance") else { return nil }
                return .regionReassigned(instance: index, region: region)
            }
            return .regionReassigned(instance: nil, region: region)
        case "held":
            return text("reason").map { .held(reason: $0) }
        case "resumed":
            return .resumed
        case "deadline_missed":
            guard let deadline = text("deadline").flatMap(workflow.deadline(named:)), let escalation = number("escalation"),
                let lateness = payload["lateness_ms"]?.intValue
            else { return nil }
            let owner = payload["instance"] == nil ? -1 : instance("instance")
            guard let owner else { return nil }
            return .deadlineMissed(
                TimerKey(kind: .deadline, index: deadline, instance: owner), escalation: escalation, latenessMilliseconds: lateness)
        case "escalated":
            guard let escalation = number("escalation"), let rung = number("rung"), let lateness = payload["lateness_ms"]?.intValue else {
                return nil
            }
            return .escalated(escalation: escalation, rung: rung - 1, latenessMilliseconds: lateness, refusal: text("refusal"))
        case "escalation_raised":
            guard let escalation = number("escalation"), let reason = text("reason"), let audience = text("audience") else { return nil }
            return .escalationRaised(escalation: escalation, reason: reason, audience: audience)
        case "escalation_acknowledged":
            return number("escalation").map { .escalationAcknowledged(escalation: $0) }
        case "phase_timer_elapsed":
            guard let phase = text("phase").flatMap(workflow.phase(named:)), let timer = number("timer") else { return nil }
            // Events written before phase timers recorded their lateness have none: 0.
            return .phaseTimerElapsed(
                TimerKey(kind: .phase, index: timer - 1, instance: phase), latenessMilliseconds: payload["lateness_ms"]?.intValue ?? 0,
                refusal: text("refusal"))
        case "noted":
            return text("text").map { .noted($0) }
        case "attributes_changed":
            return Self.attributesChangedEvent(workflow, payload)
        case "cancelled":
            return text("reason").map { .cancelled(reason: $0) }
        case "closed":
            return text("disposition").map { .closed(disposition: $0) }
        case "rated":
            guard let before = number("before"), let during = number("during"), let after = number("after"),
                let score = number("score"), let comment = text("comment")
            else { return nil }
            return .rated(ServiceRating(before: before, during: during, after: after, score: score, comment: comment))
        case "units_assigned":
            guard let index = instance("instance"), let units = strings("units"), let reasons = strings("reasons") else { return nil }
            return .unitsAssigned(instance: index, units: units, reasons: reasons)
        case "units_awaited":
            guard let index = instance("instance"), let missing = number("missing") else { return nil }
            return .unitsAwaited(instance: index, missing: missing, capabilities: strings("capabilities") ?? [])
        case "units_released":
            guard let index = instance("instance"), let units = strings("units"),
                let status = text("status").flatMap(UnitStatus.init(rawValue:))
            else { return nil }
            return .unitsReleased(instance: index, units: units, status: status, reason: text("reason"))
        case "unit_preempted":
            guard let index = instance("instance"), let unit = text("unit"), let by = text("by"), let reason = text("reason") else {
                return nil
            }
            return .unitPreempted(instance: index, unit: unit, by: by, reason: reason)
        default:
            return nil
        }
    }

    static func startedEvent(_ workflow: Workflow, _ payload: JSONValue) -> OperationEvent? {
        guard let operation = payload["operation"]?.stringValue, let region = payload["region"]?.stringValue,
            let version = payload["version"]?.intValue, case .object(let values)? = payload["attributes"]
        else { return nil }
        var attributes = [AttributeValue?](repeating: nil, count: workflow.attributes.count)
        for (name, value) in values {
            guard let index = workflow.attribute(named: name), let parsed = attributeValue(value, as: workflow.attributes[index].type)
            else { return nil }
            attributes[index] = parsed
        }
        return .started(operation: operation, workflow: workflow.id, version: Int(version), region: region, attributes: attributes)
    }

    static func attributesChangedEvent(_ workflow: Workflow, _ payload: JSONValue) -> OperationEvent? {
        guard let items = payload["changes"]?.arrayValue, !items.isEmpty else { return nil }
        var changes: [AttributeChange] = []
        for item in items {
            guard let index = item["attribute"]?.stringValue.flatMap(workflow.attribute(named:)) else { return nil }
            let type = workflow.attributes[index].type
            /// Absent or null: no value; anything else must fit the attribute's type.
            func value(_ key: String) -> AttributeValue?? {
                guard let json = item[key], json != .null else { return .some(nil) }
                return attributeValue(json, as: type).map { .some($0) }
            }
            guard let from = value("from"), let to = value("to") else { return nil }
            changes.append(AttributeChange(attribute: index, from: from, to: to))
        }
        return .attributesChanged(changes)
    }

    static func attributeValue(_ json: JSONValue, as type: AttributeType) -> AttributeValue? {
        AttributeValue(json: json, as: type)
    }
}

extension AttributeValue {
    /// The value as JSON: text for strings, enum values and priorities (`"P1"`).
    public var json: JSONValue {
        switch self {
        case .string(let text), .symbol(let text): .string(text)
        case .int(let number): .int(Int64(number))
        case .bool(let flag): .bool(flag)
        case .priority(let level): .string("P\(level)")
        }
    }

    /// Reads a value of `type` from its JSON form; nil when it does not fit.
    public init?(json: JSONValue, as type: AttributeType) {
        switch (json, type) {
        case (.string(let text), .string): self = .string(text)
        case (.int(let number), .int): self = .int(Int(number))
        case (.bool(let flag), .bool): self = .bool(flag)
        case (.string(let text), .enumeration(let values)) where values.contains(text): self = .symbol(text)
        case (.string(let text), .priority):
            guard let level = AttributeValue.priorityLevel(text) else { return nil }
            self = .priority(level)
        default: return nil
        }
    }
}

extension OperationState {
    /// Rebuilds an operation from its stored events (kind and payload each), decoding each
    /// against the state before it. Throws the position of the first event that does not fit.
    public static func replay(
        _ workflow: Workflow, stored: [(at: Instant, actor: Actor?, kind: String, payload: JSONValue)]
    ) throws(ReplayError) -> OperationState {
        try replayRecording(workflow, stored: stored).state
    }

    /// Like `replay`, also returning the decoded events.
    public static func replayRecording(
        _ workflow: Workflow, stored: [(at: Instant, actor: Actor?, kind: String, payload: JSONValue)]
    ) throws(ReplayError) -> (state: OperationState, events: [RecordedEvent]) {
        guard let first = stored.first, first.kind == "started", let started = startedEvent(workflow, first.payload),
            case .started(let id, _, _, let region, let attributes) = started
        else { throw ReplayError(position: 0, reason: "the first event is not a valid 'started' event of workflow '\(workflow.id)'") }
        var state = OperationState(id: id, workflow: workflow, region: region, attributes: attributes, at: first.at)
        var events = [RecordedEvent(at: first.at, actor: first.actor, event: started)]
        state.apply(events[0])
        for (position, record) in stored.enumerated().dropFirst() {
            guard let event = state.event(kind: record.kind, payload: record.payload) else {
                throw ReplayError(
                    position: position,
                    reason: "event '\(record.kind)' \(record.payload.canonical) does not fit workflow '\(workflow.id)' v\(workflow.version)"
                )
            }
            let recorded = RecordedEvent(at: record.at, actor: record.actor, event: event)
            state.apply(recorded)
            events.append(recorded)
        }
        return (state, events)
    }

    public struct ReplayError: Error, Sendable, CustomStringConvertible {
        /// Index of the offending event within the operation's events.
        public var position: Int
        public var reason: String
        public var description: String { "event #\(position + 1): \(reason)" }
    }
}
