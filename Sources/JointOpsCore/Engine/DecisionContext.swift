/// What one command is producing while it is decided: its time, its actor, the events
/// emitted so far and the effects they call for.
struct DecisionContext {
    let at: Instant
    let actor: Actor?
    var events: [RecordedEvent] = []
    var effects: [Effect] = []

    init(at: Instant, actor: Actor?) {
        self.at = at
        self.actor = actor
        events.reserveCapacity(2)
    }
}
