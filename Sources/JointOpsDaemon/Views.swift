import JointOpsCore
import JointOpsStore

/// The Varlink types of io.jointops.Operations, built from Core values.
enum Views {
    static func time(_ instant: Instant) -> JSONValue { .string(ISO8601.format(instant)) }

    static func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }

    static func priority(_ state: OperationState) -> String? { state.priorityLevel.map { "P\($0)" } }

    static func operation(_ state: OperationState) -> JSONValue {
        let workflow = state.workflow
        var attributes: [String: JSONValue] = [:]
        for (index, value) in state.attributes.enumerated() {
            if let value { attributes[workflow.attributes[index].name] = .string(value.description) }
        }
        let branches: [JSONValue] = state.branches.map { instance in
            let definition = workflow.branches[instance.definition]
            let steps = instance.stepEnteredAt.enumerated().compactMap { index, at in at.map { (definition.steps[index].name, $0) } }
                .sorted { $0.1 < $1.1 }
                .map { JSONValue.object(["step": .string($0.0), "enteredAt": time($0.1)]) }
            let current = definition.steps[instance.step]
            let next =
                instance.status == .active
                ? current.reachableDirectly.map { definition.steps[$0].name } + current.outcomes.map { "outcome:\($0.name)" } : []
            return .object([
                "instance": .string(instance.name), "branch": .string(definition.name), "kind": .string(definition.kind.rawValue),
                "step": .string(current.name), "status": .string(instance.status.rawValue), "region": .string(instance.region),
                "units": .int(Int64(instance.units)), "dispatchedAt": time(instance.dispatchedAt), "outcome": optional(instance.outcome),
                "steps": .array(steps), "next": .array(next.map(JSONValue.string)),
                "assignedUnits": .array(instance.assignedUnits.map(JSONValue.string)),
                "awaitingUnits": .int(Int64(instance.isAwaitingUnits ? instance.missingUnits : 0)),
            ])
        }
        let escalating = Set(state.escalations.filter(\.isOpen).compactMap(\.timer))
        let timers: [JSONValue] = state.timers.sorted { $0.due < $1.due }.map { timer in
            let (kind, name, instance) = describe(timer.key, state)
            return .object([
                "kind": .string(kind), "name": .string(name), "instance": optional(instance), "due": time(timer.due),
                "escalating": .bool(escalating.contains(timer.key)),
            ])
        }
        let escalations: [JSONValue] = state.escalations.map { escalation in
            .object([
                "number": .int(Int64(escalation.number)), "reason": .string(escalation.reason),
                "deadline": optional(escalation.timer.map { workflow.deadlines[$0.index].id }), "openedAt": time(escalation.openedAt),
                "rungsFired": .int(Int64(escalation.rungsFired)), "acknowledgedAt": escalation.acknowledgedAt.map(time) ?? .null,
                "resolvedAt": escalation.resolvedAt.map(time) ?? .null,
            ])
        }
        return .object([
            "id": .string(state.id), "workflow": .string(workflow.id), "version": .int(Int64(workflow.version)),
            "title": .string(workflow.title.description), "phase": .string(state.phaseName), "region": .string(state.region),
            "priority": optional(priority(state)), "attributes": .object(attributes), "startedAt": time(state.startedAt),
            "lastChangeAt": time(state.lastChangeAt), "heldReason": optional(state.hold?.reason),
            "heldSince": state.hold.map { time($0.since) } ?? .null, "ending": optional(state.ending), "branches": .array(branches),
            "timers": .array(timers), "escalations": .array(escalations), "allowed": .array(state.allowedNow().map(JSONValue.string)),
        ])
    }

    static func describe(_ key: TimerKey, _ state: OperationState) -> (String, String, String?) {
        switch key.kind {
        case .deadline:
            return ("deadline", state.workflow.deadlines[key.index].id, key.instance >= 0 ? state.branches[key.instance].name : nil)
        case .phase:
            return ("phase", state.workflow.phases[key.instance].timers[key.index].event, nil)
        }
    }

    static func summary(_ state: OperationState) -> JSONValue {
        .object([
            "id": .string(state.id), "workflow": .string(state.workflow.id), "phase": .string(state.phaseName),
            "region": .string(state.region), "priority": optional(priority(state)), "startedAt": time(state.startedAt),
            "lastChangeAt": time(state.lastChangeAt),
            "activeBranches": .int(Int64(state.branches.count { $0.status == .active })),
            "openEscalations": .int(Int64(state.escalations.count { $0.isOpen })),
            "awaitingUnits": .int(Int64(state.branches.reduce(0) { $0 + ($1.isAwaitingUnits ? $1.missingUnits : 0) })),
        ])
    }

    static func event(
        sequence: Int64, operationSequence: Int64, operation: String, at: Instant, actor: Actor?, kind: String, description: String
    ) -> JSONValue {
        .object([
            "sequence": .int(sequence), "operationSequence": .int(operationSequence), "operation": .string(operation), "at": time(at),
            "actor": actor.map { .object(["uid": .int(Int64($0.uid)), "name": .string($0.name), "role": .string($0.role)]) } ?? .null,
            "kind": .string(kind), "description": .string(description),
        ])
    }

    /// A unit as io.jointops.Units shows it.
    static func unit(_ unit: JointOpsCore.Unit, instance: String? = nil) -> JSONValue {
        .object([
            "id": .string(unit.id), "callSign": .string(unit.callSign), "branch": .string(unit.kind.rawValue),
            "homeRegion": .string(unit.homeRegion), "capabilities": .array(unit.capabilities.sorted().map(JSONValue.string)),
            "status": .string(unit.status.rawValue), "statusReason": optional(unit.statusReason),
            "operation": optional(unit.assignment?.operation), "instance": optional(instance), "retired": .bool(unit.retired),
        ])
    }

    static func workflow(_ workflow: Workflow) -> JSONValue {
        .object([
            "id": .string(workflow.id), "version": .int(Int64(workflow.version)), "title": .string(workflow.title.description),
            "phases": .array(workflow.phases.map { .string($0.name) }), "branches": .array(workflow.branches.map { .string($0.name) }),
            "attributes": .array(workflow.attributes.map { .string($0.name + ($0.required ? "" : "?")) }),
        ])
    }
}
