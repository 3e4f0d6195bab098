public import JointOpsCore

/// An operation's history replayed from the log ahead of the change that ends it, so the
/// report facts that change writes are built on the committing caller's task instead of by
/// a replay inside the transaction (which every command waits for: 0.3 s for an operation
/// of 50,000 events).
public struct ReplayedHistory: Sendable {
    /// The operation as its stored events leave it.
    public var state: OperationState
    /// Its stored events, decoded, from `started`.
    public var events: [RecordedEvent]
}

extension ReplayedHistory {
    /// `operation`'s `stored` events, in order, replayed against `workflow`.
    init(of operation: String, stored: [StoredEvent], workflow: Workflow) throws(StoreError) {
        do {
            let replayed = try OperationState.replayRecording(workflow, stored: stored.map { ($0.at, $0.actor, $0.kind, $0.payload) })
            self.init(state: replayed.state, events: replayed.events)
        } catch {
            throw StoreError(.invalidData, "operation \(operation) cannot be replayed for its report facts: \(error)")
        }
    }
}

extension EventStore {
    /// `operation`'s stored events replayed against `workflow` (the one it runs), for the
    /// change that will end it (`Change.history`). Read where a long read stalls nothing.
    public func replayedHistory(of operation: String, workflow: Workflow) throws(StoreError) -> ReplayedHistory {
        try ReplayedHistory(of: operation, stored: try events(of: operation), workflow: workflow)
    }
}

extension EventStore.Change {
    /// Whether the change closes or cancels its operation: it writes the report facts then.
    var endsOperation: Bool {
        events.contains { record in
            switch record.event {
            case .closed, .cancelled: true
            default: false
            }
        }
    }

    /// The report facts this change writes, built from `history` and its own events: nil
    /// (the writer replays the log itself) when it ends nothing, has no history, or the
    /// history is not every event before it (it was read before another change landed).
    func factsFromHistory() -> ReportFactsWriter.Prepared? {
        guard endsOperation, let history, history.events.count == state.sequence - events.count else { return nil }
        var replayed = history.state
        for record in events { replayed.apply(record) }
        return ReportFactsWriter.Prepared(facts: OperationFacts(replayed, events: history.events + events))
    }
}
