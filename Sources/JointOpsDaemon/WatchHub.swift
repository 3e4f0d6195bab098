import JointOpsCore
import JointOpsProtocol
import Synchronization

/// Fans every committed change out to watchers without ever waiting for them: each watcher
/// has a bounded buffer, and one that falls behind is disconnected with `WatcherTooSlow`.
public final class WatchHub: Sendable {
    private let subscribers = Mutex<[Int: Subscription]>([:])
    private let nextID = Mutex(0)
    /// The running number of published changes (see `Change.sequence`).
    private let published = Mutex(0)
    private let batches = EncodedBatches()

    private func nextSequence() -> Int {
        published.withLock { value in
            value += 1
            return value
        }
    }

    func subscribe(_ filter: WatchFilter, buffer: Int, interval: Duration) -> Subscription {
        let id = nextID.withLock { value in
            value += 1
            return value
        }
        let subscription = Subscription(id: id, filter: filter, capacity: max(1, buffer), interval: interval, batches: batches)
        subscribers.withLock { $0[id] = subscription }
        return subscription
    }

    public func unsubscribe(_ subscription: Subscription) {
        _ = subscribers.withLock { $0.removeValue(forKey: subscription.id) }
        subscription.finish()
    }

    /// Sends one reply per event, then the operation as it now stands (`view`, the same
    /// value the command's caller got, built here when nil), to every matching watcher.
    func publish(state: OperationState, events: [RecordedEvent], view: JSONValue?) {
        let current = subscribers.withLock { Array($0.values) }
        let matching = current.filter { $0.filter.matches(state) }
        guard !matching.isEmpty else { return }
        let replies: [JSONValue] = events.enumerated().map { offset, record in
            .object([
                "event": Views.event(
                    sequence: 0, operationSequence: Int64(state.sequence - events.count + offset + 1), operation: state.id, at: record.at,
                    actor: record.actor, kind: record.event.kind, description: state.describe(record.event))
            ])
        }
        let change = Change(
            sequence: nextSequence(), operation: state.id, events: replies.map(Self.encode).joined(separator: "\0"),
            view: Self.encode(.object(["operation": view ?? Views.operation(state)])))
        for subscription in matching where !subscription.send(change) {
            unsubscribe(subscription)
        }
    }

    /// A stream reply with these parameters, as sent on the wire (without the NUL).
    static func encode(_ parameters: JSONValue) -> String {
        guard case .object(let members) = parameters else { return VarlinkReply(parameters: [:], continues: true).json }
        return VarlinkReply(parameters: members, continues: true).json
    }

    /// Sends a roster change (and the unit as it now stands) to every watcher not limited to
    /// one operation; a region filter matches units homed in that region.
    func publish(unit change: UnitChange, at: Instant, actor: Actor?, units: [JointOpsCore.Unit]) {
        let current = subscribers.withLock { Array($0.values) }
        let unit = units.first { $0.id == change.unit }
        let matching = current.filter { subscription in
            subscription.filter.operation == nil && subscription.filter.branch.map { $0 == unit?.kind.rawValue } ?? true
                && subscription.filter.region.map { $0 == unit?.homeRegion } ?? true
        }
        guard !matching.isEmpty else { return }
        var fields: [String: JSONValue] = [
            "event": Views.event(
                sequence: 0, operationSequence: 0, operation: UnitChange.stream, at: at, actor: actor, kind: change.kind,
                description: change.summary)
        ]
        if let unit { fields["unit"] = Views.unit(unit) }
        let reply = Change(sequence: nextSequence(), operation: nil, events: Self.encode(.object(fields)), view: nil)
        for subscription in matching where !subscription.send(reply) { unsubscribe(subscription) }
    }

    /// Watchers connected now.
    public var count: Int { subscribers.withLock { $0.count } }

    func finishAll() {
        let all = subscribers.withLock { subscribers in
            defer { subscribers.removeAll() }
            return Array(subscribers.values)
        }
        for subscription in all { subscription.finish() }
    }
}
