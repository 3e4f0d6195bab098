import JointOpsCore
import JointOpsProtocol
import JointOpsStore
import NIOCore
import Synchronization

/// Fans every committed change out to watchers without ever waiting for them. A change is
/// encoded once and appended to one shared log; each watcher takes what its filter wants
/// from the log on its own beat, so publishing costs the same for one watcher as for a
/// hundred. A watcher that falls more than its buffer behind the log is disconnected with
/// `WatcherTooSlow`.
public final class WatchHub: Sendable {
    private let state = Mutex(State())
    let batches = EncodedBatches()

    private struct State {
        /// Changes some watcher has not taken yet: sequences `base + 1 ... base + log.count`.
        var log = CircularBuffer<Change>()
        var base = 0
        var readers: [Int: Reader] = [:]
        /// Readers asleep until a change their filter wants.
        var waiting: Set<Int> = []
        /// Readers whose filter wants every change (the common dashboard).
        var followingEverything = 0
        /// The smallest buffer of any watcher: a longer log means someone may have fallen behind.
        var smallestCapacity = Int.max
        var nextID = 0

        /// The sequence of the last change published.
        var end: Int { base + log.count }
    }

    /// One watcher's place in the log.
    private struct Reader {
        let filter: WatchFilter
        let capacity: Int
        let wake: AsyncStream<Void>.Continuation
        /// The last change of the log it has taken (or skipped as not wanted).
        var cursor: Int
        /// Replies for this watcher only (its initial state), sent before its next changes.
        var own: [Change] = []
        var cutOff = false
        var finished = false
        /// Finished because the daemon is stopping (the watcher is told so).
        var daemonStopping = false
        /// The one operation it follows has ended: its watch ends once it has taken that.
        var operationEnded = false
    }

    /// What a change is about, for the watchers' filters.
    enum Subject: Sendable {
        case operation(ChangedOperation)
        case unit(kind: String?, homeRegion: String?)
        /// The daemon as a whole (a fault of its store): every watcher wants it.
        case daemon
    }

    /// An operation as a change left it, held by reference: filters test it under the
    /// hub's lock, once per watcher, and copying the state out of the subject for each test
    /// retained and released every one of its parts.
    final class ChangedOperation: Sendable {
        let state: OperationState
        /// The operation before the change (nil for its start): a watcher whose filter it
        /// matched hears the change that takes it out (a reassignment to another region).
        let before: OperationState?

        init(_ state: OperationState, before: OperationState?) {
            self.state = state
            self.before = before
        }
    }

    func subscribe(_ filter: WatchFilter, buffer: Int, interval: Duration) -> Subscription {
        let (wakeUps, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let (id, cursor) = state.withLock { state in
            state.nextID += 1
            state.readers[state.nextID] = Reader(filter: filter, capacity: max(1, buffer), wake: wake, cursor: state.end)
            if filter.wantsEverything { state.followingEverything += 1 }
            state.smallestCapacity = min(state.smallestCapacity, max(1, buffer))
            return (state.nextID, state.end)
        }
        return Subscription(id: id, opened: cursor, interval: interval, hub: self, wakeUps: wakeUps)
    }

    public func unsubscribe(_ subscription: Subscription) {
        let wake = state.withLock { state -> AsyncStream<Void>.Continuation? in
            guard let reader = state.readers.removeValue(forKey: subscription.id) else { return nil }
            state.waiting.remove(subscription.id)
            if reader.filter.wantsEverything { state.followingEverything -= 1 }
            state.smallestCapacity = state.readers.values.map(\.capacity).min() ?? Int.max
            if reader.cursor == state.base { Self.trim(&state) }
            return reader.wake
        }
        wake?.yield()
    }

    /// Sends one reply per event (the first at `firstSequence` of the log), then the
    /// operation as it now stands (`view`, the same value the command's caller got, built
    /// here when nil), to every watcher whose filter it matches now or matched `before`.
    func publish(
        state operation: OperationState, before: OperationState?, events: [RecordedEvent], firstSequence: Int64, view: JSONValue?
    ) {
        let subject = Subject.operation(ChangedOperation(operation, before: before))
        guard isWanted(subject) else { return }
        var encodedEvents = ByteBuffer()
        for (offset, record) in events.enumerated() {
            let event = Views.event(
                sequence: firstSequence + Int64(offset), operationSequence: Int64(operation.sequence - events.count + offset + 1),
                operation: operation.id,
                at: record.at, actor: record.actor, kind: record.event.kind, description: operation.describe(record.event))
            Self.write(["event": event], to: &encodedEvents)
        }
        let encodedView = Self.encoded(["operation": view ?? Views.operation(operation)])
        append(subject: subject, operation: operation.id, events: encodedEvents, view: encodedView)
    }

    /// Sends a roster change (its event at `sequence` of the log and `streamSequence` of
    /// the `@units` stream, and the unit as it now stands) to every watcher not limited to
    /// one operation; a region filter matches units homed in that region.
    func publish(
        unit change: UnitChange, at: Instant, actor: Actor?, units: [JointOpsCore.Unit], sequence: Int64, streamSequence: Int64
    ) {
        let unit = units.first { $0.id == change.unit }
        let subject = Subject.unit(kind: unit?.kind.rawValue, homeRegion: unit?.homeRegion)
        guard isWanted(subject) else { return }
        var fields: [String: JSONValue] = [
            "event": Views.event(
                sequence: sequence, operationSequence: streamSequence, operation: UnitChange.stream, at: at, actor: actor,
                kind: change.kind,
                description: change.summary)
        ]
        if let unit { fields["unit"] = Views.unit(unit) }
        append(subject: subject, operation: nil, events: Self.encoded(fields), view: nil)
    }

    /// Tells every watcher, whatever its filter, that the store has begun or ended a fault.
    func publish(storeFault fault: GroupCommitter.Fault) {
        append(subject: .daemon, operation: nil, events: Self.encoded(["storeFault": Views.storeFault(fault)]), view: nil)
    }

    /// Queues a reply for one watcher only, before anything it takes from the log next.
    func send(_ parameters: [String: JSONValue], to subscription: Subscription) {
        send(encoded: [Self.encoded(parameters)], to: subscription)
    }

    /// Queues replies already encoded (`encoded(_:)`, several in one buffer if need be) for
    /// one watcher only, in order, before anything it takes from the log next.
    func send(encoded buffers: [ByteBuffer], to subscription: Subscription) {
        let wake = state.withLock { state -> AsyncStream<Void>.Continuation? in
            guard state.readers[subscription.id] != nil else { return nil }
            for buffer in buffers {
                state.readers[subscription.id]!.own.append(Change(sequence: 0, subject: nil, operation: nil, events: buffer, view: nil))
            }
            return state.waiting.remove(subscription.id) != nil ? state.readers[subscription.id]!.wake : nil
        }
        wake?.yield()
    }

    /// A stream reply with these parameters, as sent on the wire, with its NUL.
    static func encoded(_ parameters: [String: JSONValue]) -> ByteBuffer {
        var buffer = ByteBuffer()
        write(parameters, to: &buffer)
        return buffer
    }

    /// The reply that tells a filtered watcher an operation no longer matches its filter.
    private static func left(_ id: String) -> Change {
        Change(sequence: 0, subject: nil, operation: nil, events: encoded(["left": .string(id)]), view: nil)
    }

    /// A stream reply with these parameters, as sent on the wire, with its NUL.
    private static func write(_ parameters: [String: JSONValue], to buffer: inout ByteBuffer) {
        buffer.writeBytes(VarlinkReply(parameters: parameters, continues: true).jsonBytes)
        buffer.writeInteger(UInt8(0))
    }

    /// Whether any watcher's filter wants a change about `subject` (no encoding otherwise).
    private func isWanted(_ subject: Subject) -> Bool {
        state.withLock { state in
            state.followingEverything > 0 || state.readers.values.contains { !$0.cutOff && $0.filter.matches(subject) }
        }
    }

    /// Appends a change to the log, wakes the sleeping watchers that want it (the others
    /// skip it where they stand), and cuts off watchers that fell more than their buffer behind.
    private func append(subject: Subject, operation: String?, events: ByteBuffer, view: ByteBuffer?) {
        let wakes = state.withLock { state -> [AsyncStream<Void>.Continuation] in
            guard !state.readers.isEmpty else { return [] }  // the last one left meanwhile
            state.log.append(Change(sequence: state.end + 1, subject: subject, operation: operation, events: events, view: view))
            var wakes: [AsyncStream<Void>.Continuation] = []
            if !state.waiting.isEmpty {
                let sleepers = state.waiting
                for id in sleepers {
                    if state.readers[id]!.filter.matches(subject) {
                        state.waiting.remove(id)
                        wakes.append(state.readers[id]!.wake)
                    } else {
                        state.readers[id]!.cursor = state.end
                    }
                }
                // Every watcher was asleep and skipped it: nobody needs it kept.
                if state.waiting.count == state.readers.count { Self.trim(&state) }
            }
            if state.log.count > state.smallestCapacity {
                for (id, reader) in state.readers where !reader.cutOff && state.end - reader.cursor > reader.capacity {
                    state.readers[id]!.cutOff = true
                    state.waiting.remove(id)
                    wakes.append(reader.wake)
                }
                Self.trim(&state)
            }
            return wakes
        }
        for wake in wakes { wake.yield() }
    }

    /// Drops the changes every watcher still connected (and not cut off) has taken.
    private static func trim(_ state: inout State) {
        let oldest = state.readers.values.lazy.filter { !$0.cutOff }.map(\.cursor).min() ?? state.end
        guard oldest > state.base else { return }
        state.log.removeFirst(oldest - state.base)
        state.base = oldest
    }

    /// What a watcher takes when it looks.
    enum Taken {
        /// Its own replies, then the log's changes its filter wants, in order; `more` when
        /// it left some for its next take (`batchBytes`).
        case changes([Change], more: Bool)
        /// The run of changes another watcher following everything took from the same place, encoded.
        case encoded(ByteBuffer, more: Bool)
        /// Nothing yet: it is now asleep until a wanted change (or the end) wakes it.
        case wait
        /// It fell more than `buffered` changes behind.
        case tooSlow(buffered: Int)
        /// It was finished and has taken everything; `operationEnded` when that is because the
        /// one operation it follows has ended (rather than the daemon stopping).
        case end(operationEnded: Bool)
        /// It has taken everything, and the daemon is stopping.
        case stopped
    }

    /// The most a watcher takes at once (at least one reply), so that what is in flight to
    /// a watcher when it is cut off — what it must read before `WatcherTooSlow` — stays
    /// bounded; a watcher that follows everything at full load takes about a third of it per beat.
    static let batchBytes = 1024 * 1024

    func take(for subscription: Subscription) -> Taken {
        state.withLock { state in
            let id = subscription.id
            guard var reader = state.readers[id] else { return .end(operationEnded: false) }
            if reader.cutOff { return .tooSlow(buffered: reader.capacity) }
            var budget = Self.batchBytes
            var taken: [Change] = []
            var ownTaken = 0
            for change in reader.own {
                guard taken.isEmpty || change.bytes <= budget else { break }
                taken.append(change)
                budget -= change.bytes
                ownTaken += 1
            }
            reader.own.removeFirst(ownTaken)
            let wasOldest = reader.cursor == state.base
            var shared: (bytes: ByteBuffer, more: Bool)?
            if reader.own.isEmpty, reader.cursor < state.end {
                if taken.isEmpty, reader.filter.wantsEverything, let run = batches.cached(startingAt: reader.cursor + 1),
                    run.last <= state.end
                {
                    shared = (run.bytes, run.last < state.end)
                    reader.cursor = run.last
                } else if reader.filter.wantsEverything {
                    // Everything it has not taken, up to the budget, without looking at what
                    // each change is about (under the lock every publish waits for).
                    var index = state.log.index(state.log.startIndex, offsetBy: reader.cursor - state.base)
                    while index < state.log.endIndex, taken.isEmpty || state.log[index].bytes <= budget {
                        taken.append(state.log[index])
                        budget -= state.log[index].bytes
                        reader.cursor += 1
                        index = state.log.index(after: index)
                    }
                } else {
                    while reader.cursor < state.end {
                        let change = state.log[state.log.index(state.log.startIndex, offsetBy: reader.cursor - state.base)]
                        let (wanted, leaving) = reader.filter.wants(change.subject!)
                        if wanted {
                            guard taken.isEmpty || change.bytes <= budget else { break }
                            taken.append(change)
                            budget -= change.bytes
                        }
                        reader.cursor += 1
                        guard wanted else { continue }
                        if leaving, case .operation(let operation) = change.subject! {
                            // The change took it out of the filter: nothing more about it follows.
                            taken.append(Self.left(operation.state.id))
                        }
                        if reader.filter.operation != nil, case .operation(let operation) = change.subject!,
                            operation.state.phase.isTerminal
                        {
                            reader.operationEnded = true
                            reader.finished = true
                            reader.cursor = state.end
                            break
                        }
                    }
                }
            }
            let more = !reader.own.isEmpty || reader.cursor < state.end
            if taken.isEmpty, shared == nil, !reader.finished { state.waiting.insert(id) }
            state.readers[id] = reader
            if wasOldest { Self.trim(&state) }
            if let shared { return .encoded(shared.bytes, more: shared.more) }
            guard taken.isEmpty else { return .changes(taken, more: more) }
            guard reader.finished else { return .wait }
            return reader.daemonStopping ? .stopped : .end(operationEnded: reader.operationEnded)
        }
    }

    /// Changes kept because some watcher has not taken them yet.
    var retained: Int { state.withLock { $0.log.count } }

    /// Watchers connected now.
    public var count: Int { state.withLock { $0.readers.count } }

    /// Ends every watch once its watcher has taken what is queued for it.
    func finishAll() {
        let wakes = state.withLock { state in
            for id in state.readers.keys {
                state.readers[id]!.finished = true
                state.readers[id]!.daemonStopping = true
            }
            state.waiting.removeAll()
            return state.readers.values.map(\.wake)
        }
        for wake in wakes { wake.yield() }
    }
}

extension WatchFilter {
    /// True when the filter lets everything through.
    var wantsEverything: Bool { operation == nil && region == nil && branch == nil }

    func matches(_ subject: WatchHub.Subject) -> Bool { wants(subject).wanted }

    /// Whether a watcher with this filter wants a change about `subject`, and whether that
    /// change takes its operation out of the filter (it matched before, and no longer does).
    func wants(_ subject: WatchHub.Subject) -> (wanted: Bool, leaving: Bool) {
        switch subject {
        case .operation(let operation):
            if matches(operation.state) { return (true, false) }
            let matchedBefore = operation.before.map(matches) ?? false
            return (matchedBefore, matchedBefore)
        case .unit(let kind, let homeRegion):
            let wanted =
                operation == nil && branch.map { $0 == kind } ?? true
                && region.map { region in homeRegion.map { (regionScope ?? [region]).contains($0) } ?? false } ?? true
            return (wanted, false)
        case .daemon:
            return (true, false)
        }
    }
}
