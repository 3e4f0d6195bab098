import JointOpsCore
import JointOpsStore

/// The audit trail of an operation: each stored event with a human-readable line, described
/// against the operation as it stood when the event happened.
enum History {
    /// The stored events decoded against the workflow, in order (events that do not fit are left out).
    static func decode(_ stored: [StoredEvent], workflow: Workflow) -> [RecordedEvent] {
        var state: OperationState?
        var decoded: [RecordedEvent] = []
        for record in stored {
            if state == nil {
                state = try? OperationState.replay(workflow, stored: [(record.at, record.actor, record.kind, record.payload)])
                if let event = state?.event(kind: record.kind, payload: record.payload) {
                    decoded.append(RecordedEvent(at: record.at, actor: record.actor, event: event))
                }
            } else if var current = state, let event = current.event(kind: record.kind, payload: record.payload) {
                let recorded = RecordedEvent(at: record.at, actor: record.actor, event: event)
                current.apply(recorded)
                decoded.append(recorded)
                state = current
            }
        }
        return decoded
    }

    static func events(_ stored: [StoredEvent], workflow: Workflow) -> [JSONValue] {
        var state: OperationState?
        return stored.map { record in
            var description = record.kind
            if var current = state, let event = current.event(kind: record.kind, payload: record.payload) {
                current.apply(RecordedEvent(at: record.at, actor: record.actor, event: event))
                description = current.describe(event)
                state = current
            } else if state == nil,
                let started = try? OperationState.replay(workflow, stored: [(record.at, record.actor, record.kind, record.payload)]),
                let event = started.event(kind: record.kind, payload: record.payload)
            {
                description = started.describe(event)
                state = started
            }
            return Views.event(
                sequence: record.sequence, operationSequence: record.operationSequence, operation: record.operation, at: record.at,
                actor: record.actor, kind: record.kind, description: description)
        }
    }
}
