import JointOpsCore
import JointOpsStore

/// An operation's stored events, decoded against the workflow one by one, each with the
/// operation as it stood just after it (for descriptions and reports).
enum History {
    /// Calls `body` for every stored event with its decoded event and the state after it;
    /// an event that does not fit the workflow comes with nil for both.
    static func walk(_ stored: [StoredEvent], workflow: Workflow, _ body: (StoredEvent, OperationEvent?, OperationState?) -> Void) {
        var state: OperationState?
        for record in stored {
            if var current = state {
                guard let event = current.event(kind: record.kind, payload: record.payload) else {
                    body(record, nil, nil)
                    continue
                }
                current.apply(RecordedEvent(at: record.at, actor: record.actor, event: event))
                state = current
                body(record, event, current)
            } else if let started = try? OperationState.replay(workflow, stored: [(record.at, record.actor, record.kind, record.payload)]),
                let event = started.event(kind: record.kind, payload: record.payload)
            {
                state = started
                body(record, event, started)
            } else {
                body(record, nil, nil)
            }
        }
    }

    /// The stored events decoded against the workflow, in order (events that do not fit are left out).
    static func decode(_ stored: [StoredEvent], workflow: Workflow) -> [RecordedEvent] {
        var decoded: [RecordedEvent] = []
        walk(stored, workflow: workflow) { record, event, _ in
            if let event { decoded.append(RecordedEvent(at: record.at, actor: record.actor, event: event)) }
        }
        return decoded
    }

    /// The audit trail: each stored event with a human-readable line.
    static func events(_ stored: [StoredEvent], workflow: Workflow) -> [JSONValue] {
        var result: [JSONValue] = []
        walk(stored, workflow: workflow) { record, event, state in
            let description = event.flatMap { event in state.map { $0.describe(event) } } ?? record.kind
            result.append(
                Views.event(
                    sequence: record.sequence, operationSequence: record.operationSequence, operation: record.operation, at: record.at,
                    actor: record.actor, kind: record.kind, description: description))
        }
        return result
    }
}
