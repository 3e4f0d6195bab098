import JointOpsCore
import JointOpsProtocol
import NIOCore
import Synchronization

/// Fans every committed change out to watchers without ever waiting for them: each watcher
/// has a bounded buffer, and one that falls behind is disconnected with `WatcherTooSlow`.
public final class WatchHub: Sendable {
    /// One change as a watcher receives it: its event replies, then the operation view
    /// after it. Encoded once, shared by every watcher.
    struct Change: Sendable {
        /// The operation the view belongs to; nil for replies that are never collapsed
        /// (roster changes, the initial state, the `current` marker).
        var operation: String?
        /// Event replies, encoded and joined by NUL (may be empty).
        var events: String
        /// The operation-view reply, encoded; nil when there is none.
        var view: String?
    }

    /// One watcher's queue of changes. Its connection takes everything queued at once and
    /// writes it in one go, at most once per `interval`: a busy stream costs a few large
    /// writes a second instead of one small write per change. In a batch every event is
    /// sent, and each operation's view only once, as it stands after the batch's last
    /// change to it (the views in between are superseded).
    public final class Subscription: Sendable {
        public enum Batch: Sendable {
            /// Replies (with `continues`), encoded, each ended by its NUL: ready to write.
            case replies(ByteBuffer)
            /// The watcher fell this many changes behind and is being disconnected.
            case tooSlow(buffered: Int)
        }

        private struct State {
            var queued: [Change] = []
            var finished = false
            var cutOff = false
        }

        let filter: WatchFilter
        /// How many changes may wait for this watcher.
        let capacity: Int
        /// The shortest time between two writes to this watcher.
        let interval: Duration
        let id: Int
        private let state = Mutex(State())
        /// Wakes the connection when something is queued (at most one wake-up is kept).
        private let wakeUps: AsyncStream<Void>
        private let wake: AsyncStream<Void>.Continuation

        init(id: Int, filter: WatchFilter, capacity: Int, interval: Duration) {
            self.id = id
            self.filter = filter
            self.capacity = capacity
            self.interval = interval
            (wakeUps, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        }

        /// Queues a reply's parameters; false when the watcher has fallen too far behind (and is now cut off).
        @discardableResult
        func send(_ parameters: JSONValue) -> Bool {
            send(Change(operation: nil, events: WatchHub.encode(parameters), view: nil))
        }

        /// Queues a change; false when the watcher is cut off.
        @discardableResult
        func send(_ change: Change) -> Bool {
            let queued = state.withLock { state in
                guard !state.finished, !state.cutOff else { return false }
                guard state.queued.count < capacity else {
                    state.cutOff = true
                    return false
                }
                state.queued.append(change)
                return true
            }
            wake.yield()
            return queued
        }

        /// Hands `body` everything queued, as one batch, whenever there is something (but
        /// not twice within `interval`), until the subscription finishes or the watcher is
        /// cut off (the last batch is `tooSlow`).
        func deliver(_ body: (Batch) async throws -> Void) async rethrows {
            var wakeUp = wakeUps.makeAsyncIterator()
            let clock = ContinuousClock()
            var lastWrite: ContinuousClock.Instant?
            while true {
                let taken: Batch?? = state.withLock { state in
                    if state.cutOff { return .some(.tooSlow(buffered: capacity)) }
                    if !state.queued.isEmpty {
                        defer { state.queued.removeAll(keepingCapacity: true) }
                        return .some(.replies(Self.encode(state.queued)))
                    }
                    return state.finished ? .some(nil) : nil
                }
                switch taken {
                case .some(.some(let batch)):
                    try await body(batch)
                    if case .tooSlow = batch { return }
                    lastWrite = clock.now
                case .some(.none):
                    return
                case .none:
                    guard await wakeUp.next() != nil else { return }
                    // Let changes that arrive right after this one share its write.
                    if let lastWrite, clock.now < lastWrite + interval { try? await clock.sleep(until: lastWrite + interval) }
                }
            }
        }

        /// The replies of queued changes: every event, and each operation's last view.
        static func encode(_ changes: [Change]) -> ByteBuffer {
            var last: [String: Int] = [:]
            for (index, change) in changes.enumerated() { if let operation = change.operation { last[operation] = index } }
            var parts: [String] = []
            parts.reserveCapacity(changes.count * 2)
            var size = 0
            for (index, change) in changes.enumerated() {
                if !change.events.isEmpty { parts.append(change.events) }
                if let view = change.view, change.operation.map({ last[$0] == index }) ?? true { parts.append(view) }
            }
            for part in parts { size += part.utf8.count + 1 }
            var buffer = ByteBufferAllocator().buffer(capacity: size)
            for part in parts {
                buffer.writeString(part)
                buffer.writeInteger(UInt8(0))
            }
            return buffer
        }

        func finish() {
            state.withLock { $0.finished = true }
            wake.yield()
        }

        public var isCutOff: Bool { state.withLock { $0.cutOff } }
    }

    private let subscribers = Mutex<[Int: Subscription]>([:])
    private let nextID = Mutex(0)

    func subscribe(_ filter: WatchFilter, buffer: Int, interval: Duration) -> Subscription {
        let id = nextID.withLock { value in
            value += 1
            return value
        }
        let subscription = Subscription(id: id, filter: filter, capacity: max(1, buffer), interval: interval)
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
            operation: state.id, events: replies.map(Self.encode).joined(separator: "\0"),
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
