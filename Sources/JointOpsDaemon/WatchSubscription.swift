import JointOpsCore
import NIOCore
import Synchronization

extension WatchHub {
    /// One change as a watcher receives it: its event replies, then the operation view
    /// after it. Encoded once, shared by every watcher (a class, so that a watcher taking
    /// it costs one reference, not one per field).
    final class Change: Sendable {
        /// The change's place in the hub's log (0 for replies of one watcher only: its
        /// initial state and the `current` marker).
        let sequence: Int
        /// What the change is about, for filters; nil for replies of one watcher only.
        let subject: Subject?
        /// The operation the view belongs to; nil for replies that are never collapsed.
        let operation: String?
        /// Event replies, each ended by its NUL (may be empty).
        let events: ByteBuffer
        /// The operation-view reply, ended by its NUL; nil when there is none.
        let view: ByteBuffer?

        /// Its replies' size: what it adds to a batch at most (its view may be superseded).
        let bytes: Int

        init(sequence: Int, subject: Subject?, operation: String?, events: ByteBuffer, view: ByteBuffer?) {
            self.sequence = sequence
            self.subject = subject
            self.operation = operation
            self.events = events
            self.view = view
            bytes = events.readableBytes + (view?.readableBytes ?? 0)
        }
    }

    /// One watcher's end of the hub. Its connection takes everything waiting at once and
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
            /// The one operation the watch follows has ended (after its last change was sent).
            case operationEnded
            /// The daemon is stopping (after every change was sent).
            case daemonStopping
        }

        let id: Int
        /// The place in the hub's log it starts after: its first change from the log is the
        /// one after this.
        let opened: Int
        /// The shortest time between two writes to this watcher.
        let interval: Duration
        private let hub: WatchHub
        /// Woken by the hub when something it wants arrives (at most one wake-up is kept).
        private let wakeUps: AsyncStream<Void>

        init(id: Int, opened: Int, interval: Duration, hub: WatchHub, wakeUps: AsyncStream<Void>) {
            self.id = id
            self.opened = opened
            self.interval = interval
            self.hub = hub
            self.wakeUps = wakeUps
        }

        /// Queues a reply for this watcher only.
        func send(_ parameters: [String: JSONValue]) {
            hub.send(parameters, to: self)
        }

        /// Queues replies already encoded for this watcher only.
        func send(encoded buffers: [ByteBuffer]) {
            hub.send(encoded: buffers, to: self)
        }

        /// Hands `body` everything waiting, as one batch, whenever there is something (but
        /// not twice within `interval`), until the subscription finishes, the one operation
        /// it follows ends (the last batch is `operationEnded`), or the watcher is cut off
        /// (the last batch is `tooSlow`). Each take waits for `ready` first: until the
        /// connection has room, what the watcher has not read waits in the hub, where
        /// `watch_buffer` counts it, and not in the connection's buffers, where nothing does.
        func deliver(ready: () async throws -> Void, _ body: (Batch) async throws -> Void) async rethrows {
            var wakeUp = wakeUps.makeAsyncIterator()
            let clock = ContinuousClock()
            var lastWrite: ContinuousClock.Instant?
            // It left changes for its next take (`WatchHub.batchBytes`): it takes them as soon
            // as its last write is done, not on the next beat.
            var behind = false
            while true {
                // At most one write per interval, on the common beat, also while changes
                // keep coming: watchers that follow everything then take on the same beat
                // from the same place, and all but the first reuse its encoding.
                if !behind, let lastWrite, clock.now < lastWrite + interval {
                    try? await clock.sleep(until: EncodedBatches.beat(after: lastWrite + interval, every: interval))
                }
                try await ready()
                switch hub.take(for: self) {
                case .changes(let changes, let more):
                    try await body(.replies(hub.batches.encoded(changes)))
                    lastWrite = clock.now
                    behind = more
                case .encoded(let buffer, let more):
                    try await body(.replies(buffer))
                    lastWrite = clock.now
                    behind = more
                case .tooSlow(let buffered):
                    try await body(.tooSlow(buffered: buffered))
                    return
                case .stopped:
                    try await body(.daemonStopping)
                    return
                case .end(let operationEnded):
                    if operationEnded { try await body(.operationEnded) }
                    return
                case .wait:
                    guard await wakeUp.next() != nil else { return }
                }
            }
        }
    }

    /// The last few batches encoded, by the run of changes they hold: watchers that follow
    /// everything take on the same beat from the same place, and all but the first take the
    /// run the first took, with its bytes (changes after it wait for the next beat).
    final class EncodedBatches: Sendable {
        private struct Run {
            var first: Int
            var last: Int
            var bytes: ByteBuffer
        }

        private let recent = Mutex<[Run]>([])
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

        /// A run of the log's changes encoded lately that starts at `first`: its last change and bytes.
        func cached(startingAt first: Int) -> (last: Int, bytes: ByteBuffer)? {
            recent.withLock { $0.first { $0.first == first }.map { ($0.last, $0.bytes) } }
        }

        /// The replies of queued changes: every event, and each operation's last view.
        func encoded(_ changes: [Change]) -> ByteBuffer {
            // Only an unbroken run of the log's changes is the same for every watcher: each
            // change the next of the log, none a watcher's own (a filtered watcher's `left`
            // has sequence 0, and in the place of a change it skipped it made
            // [move, left, next] look like a run of three).
            let first = changes[0].sequence
            let last = changes[changes.count - 1].sequence
            let shareable = first > 0 && changes.indices.allSatisfy { changes[$0].sequence == first + $0 }
            if shareable, let found = cached(startingAt: first), found.last == last { return found.bytes }
            let bytes = Self.encode(changes)
            if shareable {
                recent.withLock { recent in
                    recent.removeAll { $0.first == first }
                    recent.append(Run(first: first, last: last, bytes: bytes))
                    if recent.count > Self.kept { recent.removeFirst() }
                }
            }
            return bytes
        }

        static func encode(_ changes: [Change]) -> ByteBuffer {
            var last: [String: Int] = [:]
            var size = 0
            for (index, change) in changes.enumerated() {
                if let operation = change.operation { last[operation] = index }
                size += change.bytes
            }
            var buffer = ByteBufferAllocator().buffer(capacity: size)
            for (index, change) in changes.enumerated() {
                buffer.writeImmutableBuffer(change.events)
                if let view = change.view, change.operation.map({ last[$0] == index }) ?? true { buffer.writeImmutableBuffer(view) }
            }
            return buffer
        }
    }
}
