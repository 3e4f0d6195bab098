import JointOpsCore
import JointOpsProtocol
import Synchronization

/// Fans every committed change out to watchers without ever waiting for them: each watcher
/// has a bounded buffer, and one that falls behind is disconnected with `WatcherTooSlow`.
public final class WatchHub: Sendable {
    /// One watcher's queue of encoded replies. Its connection takes everything queued at
    /// once and writes it in one go, so a watcher that is momentarily behind catches up in
    /// few large writes instead of many small ones.
    public final class Subscription: Sendable {
        public enum Batch: Sendable {
            /// Replies (with `continues`), encoded and joined by the NUL that ends each.
            case replies(String)
            /// The watcher fell this many changes behind and is being disconnected.
            case tooSlow(buffered: Int)
        }

        private struct State {
            var queued: [String] = []
            var finished = false
            var cutOff = false
        }

        let filter: WatchFilter
        /// How many changes may wait for this watcher.
        let capacity: Int
        let id: Int
        private let state = Mutex(State())
        /// Wakes the connection when something is queued (at most one wake-up is kept).
        private let wakeUps: AsyncStream<Void>
        private let wake: AsyncStream<Void>.Continuation

        init(id: Int, filter: WatchFilter, capacity: Int) {
            self.id = id
            self.filter = filter
            self.capacity = capacity
            (wakeUps, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        }

        /// Queues a reply's parameters; false when the watcher has fallen too far behind (and is now cut off).
        @discardableResult
        func send(_ parameters: JSONValue) -> Bool {
            send(encoded: WatchHub.encode(parameters))
        }

        /// Queues encoded replies (see `WatchHub.encode`); false when the watcher is cut off.
        @discardableResult
        func send(encoded replies: String) -> Bool {
            let queued = state.withLock { state in
                guard !state.finished, !state.cutOff else { return false }
                guard state.queued.count < capacity else {
                    state.cutOff = true
                    return false
                }
                state.queued.append(replies)
                return true
            }
            wake.yield()
            return queued
        }

        /// Hands `body` everything queued, as one batch, whenever there is something, until
        /// the subscription finishes or the watcher is cut off (the last batch is `tooSlow`).
        func deliver(_ body: (Batch) async throws -> Void) async rethrows {
            var wakeUp = wakeUps.makeAsyncIterator()
            while true {
                let taken: Batch?? = state.withLock { state in
                    if state.cutOff { return .some(.tooSlow(buffered: capacity)) }
                    if !state.queued.isEmpty {
                        defer { state.queued.removeAll(keepingCapacity: true) }
                        return .some(.replies(state.queued.joined(separator: "\0")))
                    }
                    return state.finished ? .some(nil) : nil
                }
                switch taken {
                case .some(.some(let batch)):
                    try await body(batch)
                    if case .tooSlow = batch { return }
                case .some(.none):
                    return
                case .none:
                    guard await wakeUp.next() != nil else { return }
                }
            }
        }

        func finish() {
            state.withLock { $0.finished = true }
            wake.yield()
        }

        public var isCutOff: Bool { state.withLock { $0.cutOff } }
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
