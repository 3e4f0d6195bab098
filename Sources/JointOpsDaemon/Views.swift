import JointOpsCore
import JointOpsStore

/// The Varlink types of io.jointops.Operations, built from Core values.
package enum Views {
    static func time(_ instant: Instant) -> JSONValue { .string(ISO8601.format(instant)) }

    static func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }

    static func priority(_ state: OperationState) -> String? { state.priorityLevel.map { "P\($0)" } }

    /// A fault of the store as watchers are told of it (type StoreFault).
    static func storeFault(_ fault: GroupCommitter.Fault) -> JSONValue {
        .object([
            "kind": .string(fault.kind.rawValue), "since": time(fault.since), "failedCommands": .int(Int64(fault.failedCommands)),
            "message": .string(fault.lastError.message), "ended": fault.ended.map(time) ?? .null,
        ])
    }

    /// An operation as io.jointops.Operations shows it (type Operation). Written straight
    /// to canonical text — it goes out with every command's reply and every change a
    /// watcher sees — so members are written in sorted key order.
    package static func operation(_ state: OperationState) -> JSONValue {
        let workflow = state.workflow
        var json = CanonicalJSONWriter(capacity: 2048)
        json.object { json in
            json.key("allowed")
            json.array { json in for event in state.allowedNow() { json.string(event) } }
            json.key("attributes")
            json.object { json in
                var attributes: [(String, String)] = []
                for (index, value) in state.attributes.enumerated() {
                    if let value { attributes.append((workflow.attributes[index].name, value.description)) }
                }
                for (name, value) in attributes.sorted(by: { $0.0 < $1.0 }) {
                    json.key(dynamic: name)
                    json.string(value)
                }
            }
            json.key("branches")
            json.array { json in for instance in state.branches { branch(instance, of: workflow, to: &json) } }
            json.key("ending")
            json.string(state.ending)
            json.key("escalations")
            json.array { json in
                for escalation in state.escalations {
                    json.object { json in
                        json.key("acknowledgedAt")
                        json.time(escalation.acknowledgedAt)
                        json.key("deadline")
                        json.string(escalation.timer.map { workflow.deadlines[$0.index].id })
                        json.key("instance")
                        json.string(escalation.timer.flatMap { describe($0, state).instance })
                        json.key("number")
                        json.int(escalation.number)
                        json.key("openedAt")
                        json.time(escalation.openedAt)
                        json.key("reason")
                        json.string(escalation.reason)
                        json.key("resolvedAt")
                        json.time(escalation.resolvedAt)
                        json.key("rungsFired")
                        json.int(escalation.rungsFired)
                    }
                }
            }
            json.key("heldReason")
            json.string(state.hold?.reason)
            json.key("heldSince")
            json.time(state.hold?.since)
            json.key("id")
            json.string(state.id)
            json.key("lastChangeAt")
            json.time(state.lastChangeAt)
            json.key("phase")
            json.string(state.phaseName)
            json.key("priority")
            json.string(priority(state))
            json.key("region")
            json.string(state.region)
            json.key("startedAt")
            json.time(state.startedAt)
            json.key("timers")
            json.array { json in
                // A missed deadline's timer fires its ladder's next rung; the deadline itself was
                // due when its escalation opened.
                var missedAt: [TimerKey: Instant] = [:]
                for escalation in state.escalations where escalation.isOpen {
                    if let key = escalation.timer { missedAt[key] = escalation.openedAt }
                }
                for timer in state.timers.sorted(by: { $0.due < $1.due }) {
                    let (kind, name, instance) = describe(timer.key, state)
                    json.object { json in
                        json.key("deadlineDue")
                        json.time(missedAt[timer.key])
                        json.key("due")
                        json.time(timer.due)
                        json.key("escalating")
                        json.bool(missedAt[timer.key] != nil)
                        json.key("instance")
                        json.string(instance)
                        json.key("kind")
                        json.string(kind)
                        json.key("name")
                        json.string(name)
                        if let hold = state.hold, hold.clockPaused {
                            json.key("paused")
                            json.bool(true)
                            json.key("remaining")
                            json.int(max(0, timer.due.since(hold.since)))
                        }
                    }
                }
            }
            json.key("title")
            json.string(workflow.title.description)
            json.key("version")
            json.int(workflow.version)
            json.key("workflow")
            json.string(workflow.id)
        }
        return json.encoded
    }

    /// One branch instance of an operation's view (type Branch).
    private static func branch(_ instance: BranchInstance, of workflow: Workflow, to json: inout CanonicalJSONWriter) {
        let definition = workflow.branches[instance.definition]
        let current = definition.steps[instance.step]
        json.object { json in
            json.key("assignedUnits")
            json.array { json in for unit in instance.assignedUnits { json.string(unit) } }
            json.key("awaitingUnits")
            json.int(instance.isAwaitingUnits ? instance.missingUnits : 0)
            json.key("branch")
            json.string(definition.name)
            json.key("dispatchedAt")
            json.time(instance.dispatchedAt)
            json.key("instance")
            json.string(instance.name)
            json.key("kind")
            json.string(definition.kind.rawValue)
            json.key("next")
            json.array { json in
                guard instance.status == .active else { return }
                for step in current.reachableDirectly { json.string(definition.steps[step].name) }
                for outcome in current.outcomes { json.string("outcome:\(outcome.name)") }
            }
            json.key("outcome")
            json.string(instance.outcome)
            json.key("region")
            json.string(instance.region)
            json.key("status")
            json.string(instance.status.rawValue)
            json.key("step")
            json.string(current.name)
            json.key("steps")
            json.array { json in
                let entered = instance.stepEnteredAt.enumerated().compactMap { index, at in at.map { (definition.steps[index].name, $0) } }
                for (step, at) in entered.sorted(by: { $0.1 < $1.1 }) {
                    json.object { json in
                        json.key("enteredAt")
                        json.time(at)
                        json.key("step")
                        json.string(step)
                    }
                }
            }
            json.key("units")
            json.int(instance.units)
        }
    }

    static func describe(_ key: TimerKey, _ state: OperationState) -> (kind: String, name: String, instance: String?) {
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
            "region": .string(state.region), "priority": optional(priority(state)), "heldReason": optional(state.hold?.reason),
            "startedAt": time(state.startedAt),
            "lastChangeAt": time(state.lastChangeAt),
            "activeBranches": .int(Int64(state.branches.count { $0.status == .active })),
            "openEscalations": .int(Int64(state.escalations.count { $0.isOpen })),
            "awaitingUnits": .int(Int64(state.branches.reduce(0) { $0 + ($1.isAwaitingUnits ? $1.missingUnits : 0) })),
        ])
    }

    /// An event as io.jointops.Operations shows it (type Event), written straight to
    /// canonical text: watchers get one per event.
    static func event(
        sequence: Int64, operationSequence: Int64, operation: String, at: Instant, actor: Actor?, kind: String, description: String
    ) -> JSONValue {
        var json = CanonicalJSONWriter(capacity: 256)
        json.object { json in
            json.key("actor")
            if let actor {
                json.object { json in
                    json.key("name")
                    json.string(actor.name)
                    json.key("role")
                    json.string(actor.role)
                    json.key("uid")
                    json.int(Int(actor.uid))
                }
            } else {
                json.value(.null)
            }
            json.key("at")
            json.time(at)
            json.key("description")
            json.string(description)
            json.key("kind")
            json.string(kind)
            json.key("operation")
            json.string(operation)
            json.key("operationSequence")
            json.int(operationSequence)
            json.key("sequence")
            json.int(sequence)
        }
        return json.encoded
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
