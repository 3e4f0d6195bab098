import JointOpsCore
import JointOpsStore

/// The audit trail of an operation: each stored event with a human-readable line, described
/// against the operation as it stood when the event happened.
enum History {
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
