import JointOpsCore
import NIOCore
import Synchronization

extension WatchHub {
    /// One change as a watcher receives it: its event replies, then the operation view
    /// after it. Encoded once, shared by every watcher.
    struct Change: Sendable {
        /// The hub's running number of the change (0 for replies of one watcher only: its
        /// initial state and the `current` marker).
        var sequence: Int
        /// The operation the view belongs to; nil for replies that are never collapsed.
        var operation: String?
        /// Event replies, encoded and joined by NUL (may be empty).
        var events: String
        /// The operation-view reply, encoded; nil when there is none.
        var view: String?
    }

    /// One watcher's queue of changes. Its connection takes everything queued at once and
    /// writes it in one go, at most once per `interval` (on the hub's common beat, so
    /// watchers that follow everything take the same changes and share one encoding): a
    /// busy stream costs a few large writes a second instead of one small write per change.
    /// In a batch every event is sent, and each operation's view only once, as it stands
    /// after the batch's last change to it (the views in between are superseded).
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
        private let batches: EncodedBatches
        private let state = Mutex(State())
        /// Wakes the connection when something is queued (at most one wake-up is kept).
        private let wakeUps: AsyncStream<Void>
        private let wake: AsyncStream<Void>.Continuation

        init(id: Int, filter: WatchFilter, capacity: Int, interval: Duration, batches: EncodedBatches) {
            self.id = id
            self.filter = filter
            self.capacity = capacity
            self.interval = interval
            self.batches = batches
            (wakeUps, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        }

        /// Queues a reply for this watcher only; false when it is cut off.
        @discardableResult
        func send(_ parameters: JSONValue) -> Bool {
            send(Change(sequence: 0, operation: nil, events: WatchHub.encode(parameters), view: nil))
        }

        /// Queues a change; false when the watcher has fallen too far behind (and is now cut off).
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
                let taken: [Change]?? = state.withLock { state in
                    if state.cutOff { return .some(nil) }
                    if !state.queued.isEmpty {
                        defer { state.queued.removeAll(keepingCapacity: true) }
                        return .some(state.queued)
                    }
                    return state.finished ? .some([]) : nil
                }
                switch taken {
                case .some(.some(let changes)) where !changes.isEmpty:
                    try await body(.replies(batches.encoded(changes)))
                    lastWrite = clock.now
                case .some(.some):
                    return
                case .some(.none):
                    try await body(.tooSlow(buffered: capacity))
                    return
                case .none:
                    guard await wakeUp.next() != nil else { return }
                    // Let changes that arrive right after the last write share the next one.
                    if let lastWrite, clock.now < lastWrite + interval {
                        try? await clock.sleep(until: EncodedBatches.beat(after: lastWrite + interval, every: interval))
                    }
                }
            }
        }

        func finish() {
            state.withLock { $0.finished = true }
            wake.yield()
        }

        public var isCutOff: Bool { state.withLock { $0.cutOff } }
    }

    /// The last few batches encoded, by the run of changes they hold: watchers that follow
    /// everything take the same run on the same beat, and all but the first reuse its bytes.
    final class EncodedBatches: Sendable {
        private struct Key: Hashable {
            var first: Int
            var last: Int
        }

        private let recent = Mutex<[(Key, ByteBuffer)]>([])
        private static let kept = 4

        /// The first instant at or after `instant` on the common beat of `interval`.
        static func beat(after instant: ContinuousClock.Instant, every interval: Duration) -> ContinuousClock.Instant {
            let period = interval.components.seconds * 1_000_000_000 + interval.components.attoseconds / 1_000_000_000
            guard period > 0 else { return instant }
            let since = instant - Self.origin
            let nanoseconds = since.components.seconds * 1_000_000_000 + since.components.attoseconds / 1_000_000_000
            let rounded = (nanoseconds + period - 1) / period * period
            return Self.origin + .nanoseconds(rounded)
        }

        private static let origin = ContinuousClock.now

        /// The replies of queued changes: every event, and each operation's last view.
        func encoded(_ changes: [Change]) -> ByteBuffer {
            // Only an unbroken run of the hub's changes is the same for every watcher.
            let first = changes[0].sequence
            let last = changes[changes.count - 1].sequence
            let shareable = first > 0 && last - first + 1 == changes.count
            let key = Key(first: first, last: last)
            if shareable, let found = recent.withLock({ $0.first { $0.0 == key }?.1 }) { return found }
            let buffer = Self.encode(changes)
            if shareable {
                recent.withLock { recent in
                    recent.append((key, buffer))
                    if recent.count > Self.kept { recent.removeFirst() }
                }
            }
            return buffer
        }

        static func encode(_ changes: [Change]) -> ByteBuffer {
            var last: [String: Int] = [:]
            for (index, change) in changes.enumerated() { if let operation = change.operation { last[operation] = index } }
            var parts: [String] = []
            parts.reserveCapacity(changes.count * 2)
            for (index, change) in changes.enumerated() {
                if !change.events.isEmpty { parts.append(change.events) }
                if let view = change.view, change.operation.map({ last[$0] == index }) ?? true { parts.append(view) }
            }
            var buffer = ByteBufferAllocator().buffer(capacity: parts.reduce(0) { $0 + $1.utf8.count + 1 })
            for part in parts {
                buffer.writeString(part)
                buffer.writeInteger(UInt8(0))
            }
            return buffer
        }
    }
}
