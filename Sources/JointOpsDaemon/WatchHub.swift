import JointOpsCore
import JointOpsProtocol
import Synchronization

/// Fans every committed change out to watchers without ever waiting for them: each watcher
/// has a bounded buffer, and one that falls behind is disconnected with `WatcherTooSlow`.
public final class WatchHub: Sendable {
    /// One watcher's stream of replies (Varlink parameters).
    public final class Subscription: Sendable {
        public enum Item: Sendable {
            /// Replies (with `continues`), already encoded and joined by NULs: a change is
            /// encoded once for all watchers and written to each in one go.
            case reply(String)
            /// The watcher fell behind by this many replies and is being disconnected.
            case tooSlow(buffered: Int)
        }

        public let items: AsyncStream<Item>
        let filter: WatchFilter
        let capacity: Int
        private let continuation: AsyncStream<Item>.Continuation
        private let dropped = Mutex(false)
        let id: Int

        init(id: Int, filter: WatchFilter, capacity: Int) {
            self.id = id
            self.filter = filter
            self.capacity = capacity
            // One slot more than the capacity for the final tooSlow notice.
            (items, continuation) = AsyncStream.makeStream(of: Item.self, bufferingPolicy: .bufferingOldest(capacity + 1))
        }

        /// Queues a reply's parameters; false when the watcher has fallen too far behind (and is now cut off).
        @discardableResult
        func send(_ parameters: JSONValue) -> Bool {
            send(encoded: WatchHub.encode(parameters))
        }

        /// Queues an encoded reply (see `WatchHub.encode`).
        @discardableResult
        func send(encoded reply: String) -> Bool {
            guard !dropped.withLock({ $0 }) else { return false }
            switch continuation.yield(.reply(reply)) {
            case .enqueued(let remaining) where remaining > 1:
                return true
            case .enqueued:
                // Only the reserved slot is left: this watcher cannot keep up; tell it so.
                dropped.withLock { $0 = true }
                continuation.yield(.tooSlow(buffered: capacity))
                continuation.finish()
                return false
            case .dropped, .terminated:
                dropped.withLock { $0 = true }
                continuation.finish()
                return false
            @unknown default:
                return false
            }
        }

        func finish() { continuation.finish() }

        public var isCutOff: Bool { dropped.withLock { $0 } }
    }

    private let subscribers = Mutex<[Int: Subscription]>([:])
    private let nextID = Mutex(0)

    func subscribe(_ filter: WatchFilter, buffer: Int) -> Subscription {
        let id = nextID.withLock { value in
            value += 1
            return value
        }
        let subscription = Subscription(id: id, filter: filter, capacity: max(1, buffer))
        subscribers.withLock { $0[id] = subscription }
        return subscription
    }

    public func unsubscribe(_ subscription: Subscription) {
        _ = subscribers.withLock { $0.removeValue(forKey: subscription.id) }
        subscription.finish()
    }

    /// Sends one reply per event, then the operation as it now stands, to every matching watcher.
    func publish(state: OperationState, events: [RecordedEvent]) {
        let current = subscribers.withLock { Array($0.values) }
        let matching = current.filter { $0.filter.matches(state) }
        guard !matching.isEmpty else { return }
        var replies: [JSONValue] = events.enumerated().map { offset, record in
            .object([
                "event": Views.event(
                    sequence: 0, operationSequence: Int64(state.sequence - events.count + offset + 1), operation: state.id, at: record.at,
                    actor: record.actor, kind: record.event.kind, description: state.describe(record.event))
            ])
        }
        replies.append(.object(["operation": Views.operation(state)]))
        // One write per watcher per change: the replies joined by the NUL that ends each.
        let encoded = replies.map(Self.encode).joined(separator: "\0")
        for subscription in matching where !subscription.send(encoded: encoded) {
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
        for subscription in matching where !subscription.send(.object(fields)) { unsubscribe(subscription) }
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
