import JointOpsCore
import JointOpsStore

/// An operation's stored events, decoded against the workflow one by one, each with the
/// operation as it stood just after it (for descriptions and reports).
enum History {
    /// The operation as its events build it, one at a time: fed the events before a page,
    /// it describes the page's events as the whole trail would.
    struct Walker {
        let workflow: Workflow
        /// The operation after the last event that fitted; nil before the first.
        private(set) var state: OperationState?

        init(workflow: Workflow) { self.workflow = workflow }

        /// Applies `record` and returns it decoded, or nil (the state unchanged) when it
        /// does not fit the workflow.
        mutating func step(_ record: StoredEvent) -> OperationEvent? {
            if var current = state {
                guard let event = current.event(kind: record.kind, payload: record.payload) else { return nil }
                current.apply(RecordedEvent(at: record.at, actor: record.actor, event: event))
                state = current
                return event
            }
            guard let started = try? OperationState.replay(workflow, stored: [(record.at, record.actor, record.kind, record.payload)]),
                let event = started.event(kind: record.kind, payload: record.payload)
            else { return nil }
            state = started
            return event
        }
    }

    /// Calls `body` for every stored event with its decoded event and the state after it;
    /// an event that does not fit the workflow comes with nil for both.
    static func walk(
        _ stored: [StoredEvent], _ walker: inout Walker, _ body: (StoredEvent, OperationEvent?, OperationState?) -> Void
    ) {
        for record in stored {
            let event = walker.step(record)
            body(record, event, event == nil ? nil : walker.state)
        }
    }

    /// The stored events decoded against the workflow, in order (events that do not fit are left out).
    static func decode(_ stored: [StoredEvent], workflow: Workflow) -> [RecordedEvent] {
        var decoded: [RecordedEvent] = []
        var walker = Walker(workflow: workflow)
        walk(stored, &walker) { record, event, _ in
            if let event { decoded.append(RecordedEvent(at: record.at, actor: record.actor, event: event)) }
        }
        return decoded
    }

    /// The audit trail of the whole of `stored`: each event with a human-readable line.
    static func events(_ stored: [StoredEvent], workflow: Workflow) -> [JSONValue] {
        var walker = Walker(workflow: workflow)
        return events(stored, &walker)
    }

    /// The audit trail of `stored`, the events that follow those `walker` was fed.
    static func events(_ stored: [StoredEvent], _ walker: inout Walker) -> [JSONValue] {
        var result: [JSONValue] = []
        walk(stored, &walker) { record, event, state in
            let description = event.flatMap { event in state.map { $0.describe(event) } } ?? record.kind
            result.append(
                Views.event(
                    sequence: record.sequence, operationSequence: record.operationSequence, operation: record.operation, at: record.at,
                    actor: record.actor, kind: record.kind, description: description))
        }
        return result
    }
}
