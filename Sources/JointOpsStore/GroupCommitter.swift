import CLinux
import Dispatch
import Foundation
public import JointOpsCore
import Synchronization

/// Acknowledge after commit, with group commit: concurrent callers' changes share one
/// transaction, so throughput is not bounded by fsync latency. A caller resumes only when
/// its events are durable — or with the batch's error, in which case nothing of the batch
/// is on disk.
///
/// The writer runs on a thread of its own, so a slow disk never blocks Swift's
/// cooperative pool.
public final class GroupCommitter: Sendable {
    public struct Statistics: Sendable, Hashable {
        public var transactions = 0
        public var changes = 0
        public var failedTransactions = 0
        /// Time spent inside transactions, for utilisation figures.
        public var writingNanoseconds: UInt64 = 0
        /// CPU time the writer thread used inside transactions: the rest of
        /// `writingNanoseconds` was spent waiting (for the disk, or for a core).
        public var writingCPUNanoseconds: UInt64 = 0
    }

    /// One committed transaction, as the daemon's metrics see it: where a command's time
    /// went between asking to commit and being acknowledged.
    public struct CommittedBatch: Sendable {
        /// Callers (commands) in the transaction.
        public var commands: Int
        /// For each caller in it, how long it waited: for the transaction before to finish,
        /// and for company (`batchMaxWait`), before the writer took it or after.
        public var waits: [Duration]
        /// How long the writer worked on the transaction, its fsync included (not the time
        /// it held it open for company).
        public var transaction: Duration
    }

    /// A run of transactions that failed for the storage (a full disk, a read-only file
    /// system, a lock, an I/O error; not a command the database refused): from the first
    /// that failed after one committed, until the next that commits. On a full disk the
    /// store empties its WAL to make room (the error's `reclaim`), and the next commands are
    /// written without anyone freeing space — or it says why it could not.
    public struct Fault: Sendable {
        /// The first failure's kind (`.diskFull`, `.readOnly`, `.io`...).
        public var kind: StoreError.Kind
        /// When the first transaction of the run failed.
        public var since: Instant
        /// The transactions that failed, and the commands (callers) in them: none of them is
        /// on disk, and each caller was given the error.
        public var failedTransactions = 0
        public var failedCommands = 0
        /// The last failure (for a full disk, its `reclaim` says what the store did about it).
        public var lastError: StoreError
        /// When a transaction committed again; nil while the fault lasts.
        public var ended: Instant?
    }

    private struct Pending {
        /// Changes that commit together or not at all.
        var changes: [EventStore.Change]
        var roster: RosterChange?
        var continuation: CheckedContinuation<Placed, any Error>
        /// When the caller asked, and when the writer took it into a transaction
        /// (`DispatchTime` uptime nanoseconds).
        var arrived: UInt64
        var taken: UInt64 = 0
        /// How long the writer had held its transaction open for company when it took this
        /// caller: what it held open after counts as this caller's wait.
        var lingeredBefore: UInt64 = 0
    }

    private struct State {
        var pending: [Pending] = []
        var writing = false
        var statistics = Statistics()
        /// When the transaction being written began.
        var transactionStarted: UInt64?
        var fault: Fault?
    }

    public let store: EventStore
    private let state = Mutex(State())
    /// Commands being worked on that will commit soon (set by the caller): lingering only
    /// pays while some of them have not arrived yet.
    private let commandsInFlight = Atomic(0)
    /// At the default priority: a raised one makes Dispatch try a negative nice, which the
    /// jointops user may not set (Dispatch then logs a failure for each worker thread).
    private let queue = DispatchQueue(label: "jointops.store.commit")

    /// Told of every transaction that committed, on the writer's thread: the daemon feeds
    /// its batch-size, wait and transaction histograms from here (the store knows nothing of
    /// metrics). Keep it cheap.
    private let onBatch: (@Sendable (CommittedBatch) -> Void)?
    /// Told, on the writer's thread, of each transaction that fails (with the fault so far)
    /// and once of the first that commits after them (with `ended` set): the daemon logs
    /// the store's state from here ("store writable again after N failed commands").
    private let onFault: (@Sendable (Fault) -> Void)?
    /// Told, on the writer's thread, of each transaction the database refused (a constraint
    /// a change broke: no fault of the storage, and no `Fault`), with the error and how many
    /// callers it failed (the refused one, the others committing in the next transaction,
    /// unless the change is not known), before they are told: the daemon logs it, since no
    /// storage fault line will.
    private let onRefused: (@Sendable (StoreError, _ commands: Int) -> Void)?

    public init(
        store: EventStore, onBatch: (@Sendable (CommittedBatch) -> Void)? = nil, onFault: (@Sendable (Fault) -> Void)? = nil,
        onRefused: (@Sendable (StoreError, _ commands: Int) -> Void)? = nil
    ) {
        self.store = store
        self.onBatch = onBatch
        self.onFault = onFault
        self.onRefused = onRefused
    }

    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// The fault the store is in: non-nil from a transaction that failed for the storage
    /// until the next one commits (a full disk, say: its `kind`, `since`, how many commands
    /// failed, what the store did to make room). For STATUS and the board; cheap (one
    /// lock), and all the commit path does for it is check that it is nil.
    public var fault: Fault? { state.withLock { $0.fault } }

    /// Tells the committer how many commands are being worked on now and have yet to pass
    /// it (including those waiting here; not those already committed and finishing their
    /// replies): a batch waits for company only until half of them are here. Without this
    /// it always lingers, as long as arrivals keep coming.
    public func setCommandsInFlight(_ count: Int) { commandsInFlight.store(count, ordering: .relaxed) }

    /// How long the transaction being written has taken so far (nil when idle).
    public var writingFor: Duration? {
        guard let started = state.withLock({ $0.transactionStarted }) else { return nil }
        return .nanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
    }

    /// Where one caller's changes went in the log (see `EventStore.Placement`).
    public struct Placed: Sendable, Hashable {
        /// The global sequence of each change's first event.
        public var changes: [Int64]
        public var roster: EventStore.Placement.Roster?
    }

    /// Commits one command's change; returns once it is durable.
    @discardableResult
    public func commit(_ change: EventStore.Change) async throws(StoreError) -> Placed {
        try await commit([change])
    }

    /// Commits changes to several operations atomically (they share one transaction);
    /// returns once they are durable, with where their events went in the log.
    @discardableResult
    public func commit(_ changes: [EventStore.Change], roster: RosterChange? = nil) async throws(StoreError) -> Placed {
        // The rows' payloads and canonical bytes, and the report facts of a change that ends
        // its operation, are built here, on the caller's task, not on the one writer thread
        // every caller waits for.
        var changes = changes
        for index in changes.indices {
            changes[index].prepared = EventWriter.prepare(changes[index])
            changes[index].facts = changes[index].factsFromHistory()
        }
        do {
            return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Placed, any Error>) in
                let startWriter = state.withLock { state in
                    state.pending.append(
                        Pending(changes: changes, roster: roster, continuation: continuation, arrived: DispatchTime.now().uptimeNanoseconds)
                    )
                    guard !state.writing else { return false }
                    state.writing = true
                    return true
                }
                if startWriter { queue.async { self.drain() } }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.io, "commit failed: \(error)")
        }
    }

    /// After the first transaction that committed after a fault: the store takes back the
    /// space it keeps for emptying the WAL (if it gave it up), and `onFault` hears the end.
    private func recovered(from fault: inout Fault) {
        fault.ended = WallClock.now()
        store.takeReserve()
        onFault?(fault)
    }

    /// Whether a failed transaction says the storage is at fault, not the commands in it.
    /// The command of `batch` whose change the database refused with `error`, when others
    /// share the batch and can go on without it; nil for a storage fault (nothing could commit).
    private static func refusedCommand(_ error: StoreError, in batch: [Pending]) -> Int? {
        guard !isStorageFault(error.kind), batch.count > 1, let operation = error.operation else { return nil }
        return batch.firstIndex { $0.changes.contains { $0.state.id == operation } }
    }

    static func isStorageFault(_ kind: StoreError.Kind) -> Bool {
        switch kind {
        case .diskFull, .readOnly, .locked, .corrupt, .cannotOpen, .io: true
        case .conflict, .invalidData: false
        }
    }

    private static func threadCPUNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// The linger rule when the caller reports the commands in flight: wait while fewer
    /// than half of them are here.
    static func waitsForCompany(pending: Int, inFlight: Int) -> Bool { inFlight > 2 * pending }

    /// Writes batches until nothing is pending. A batch's transaction begins with the callers
    /// already here, and stays open while more are on their way, at most `batchMaxWait`:
    /// those that come meanwhile are written as they arrive, so callers resumed by the
    /// previous batch join this one, and the writer works on the first of them instead of
    /// waiting idle for the last (`jointops-bench store --quick`, three alternating runs:
    /// 41-44k -> 50-52k transitions/s; `daemon --quick`: 64 connections 23-28k -> 29-30k
    /// commands/s).
    ///
    /// When the caller says how many commands are in flight (`setCommandsInFlight`), it
    /// waits only until half of them have arrived (a lone command, or one of two, is
    /// committed at once): waiting for all of them kept the engine and the writer taking
    /// turns, while with half the rest are worked on as this batch is written
    /// (`jointops-bench daemon`: about 10 % more commands per second, a lower median).
    /// Otherwise it commits once a 50 µs poll sees no new arrival or as many have arrived
    /// as the previous batch resumed.
    private func drain() {
        // Its polls for company are 20-50 µs: Linux's default timer slack (50 µs) let each
        // last up to twice that. `jointops-bench store --quick`, 6 alternating pairs: the
        // writer busy 87-89 % of the time instead of 84-86 %, 52-54k transitions/s instead
        // of 48-51k in 5 of them.
        _ = jointops_set_timer_slack(1000)
        let options = store.options
        let linger =
            UInt64(options.batchMaxWait.components.seconds) * 1_000_000_000
            + UInt64(options.batchMaxWait.components.attoseconds / 1_000_000_000)
        let tracked = commandsInFlight.load(ordering: .relaxed) > 0
        var resumed = options.batchMaxSize
        func othersComing(_ count: Int) -> Bool {
            tracked ? Self.waitsForCompany(pending: count, inFlight: commandsInFlight.load(ordering: .relaxed)) : count < resumed
        }
        /// Takes up to `limit` waiting callers, stamped with when they were taken. With
        /// `last`, finding none ends this drain (the next caller starts another).
        func take(_ limit: Int, last: Bool, lingered: UInt64 = 0) -> [Pending] {
            let now = DispatchTime.now().uptimeNanoseconds
            return state.withLock { state in
                let count = min(state.pending.count, limit)
                var taken = Array(state.pending.prefix(count))
                state.pending.removeFirst(count)
                if taken.isEmpty, last { state.writing = false }
                for index in taken.indices {
                    taken[index].taken = now
                    taken[index].lingeredBefore = lingered
                }
                return taken
            }
        }
        while true {
            // Callers resumed by the last batch may be about to come back.
            if !tracked, state.withLock({ $0.pending.isEmpty }) { usleep(50) }
            var batch = take(options.batchMaxSize, last: true)
            guard !batch.isEmpty else { return }
            let started = DispatchTime.now().uptimeNanoseconds
            let startedCPU = Self.threadCPUNanoseconds()
            let deadline = started + linger
            var lingered: UInt64 = 0
            state.withLock { $0.transactionStarted = started }
            defer { state.withLock { $0.transactionStarted = nil } }
            /// The callers that arrived since the last handover, or nil to commit.
            func more() -> EventStore.Handover? {
                while batch.count < options.batchMaxSize {
                    let arrived = take(options.batchMaxSize - batch.count, last: false, lingered: lingered)
                    if !arrived.isEmpty {
                        batch += arrived
                        return EventStore.Handover(groups: arrived.map(\.changes), rosters: arrived.compactMap(\.roster))
                    }
                    let waiting = DispatchTime.now().uptimeNanoseconds
                    guard waiting < deadline, othersComing(batch.count) else { return nil }
                    usleep(tracked ? 20 : 50)
                    lingered += DispatchTime.now().uptimeNanoseconds - waiting
                    if !tracked, state.withLock({ $0.pending.isEmpty }) { return nil }
                }
                return nil
            }
            do {
                let placement = try store.commit(
                    EventStore.Handover(groups: batch.map(\.changes), rosters: batch.compactMap(\.roster)), more: more)
                // The writer's own time: the transaction's, less its waits for company.
                let spent = DispatchTime.now().uptimeNanoseconds - started - lingered
                let ended = state.withLock { state -> Fault? in
                    state.statistics.transactions += 1
                    state.statistics.changes += batch.reduce(0) { $0 + $1.changes.count }
                    state.statistics.writingNanoseconds += spent
                    state.statistics.writingCPUNanoseconds += Self.threadCPUNanoseconds() - startedCPU
                    guard state.fault != nil else { return nil }
                    defer { state.fault = nil }
                    return state.fault
                }
                var changes = placement.changes[...]
                var rosters = placement.rosters[...]
                for pending in batch {
                    let placed = Placed(
                        changes: Array(changes.prefix(pending.changes.count)),
                        roster: pending.roster == nil ? nil : rosters.popFirst())
                    changes = changes.dropFirst(pending.changes.count)
                    pending.continuation.resume(returning: placed)
                }
                // After the callers are resumed: the metrics are no reason for them to wait.
                onBatch?(
                    CommittedBatch(
                        commands: batch.count,
                        waits: batch.map { .nanoseconds(Int64($0.taken - min($0.taken, $0.arrived) + lingered - $0.lingeredBefore)) },
                        transaction: .nanoseconds(Int64(spent))))
                if var ended { recovered(from: &ended) }
            } catch {
                // A change the database refuses fails its own command, not its batch: the
                // others, rolled back with it, go back to the head of the queue and commit
                // in the next transaction (one bad operation does not fail everyone's commands).
                if let refused = Self.refusedCommand(error, in: batch) {
                    var rest = batch
                    let culprit = rest.remove(at: refused)
                    state.withLock { state in
                        state.statistics.failedTransactions += 1
                        state.pending.insert(contentsOf: rest, at: 0)
                    }
                    onRefused?(error, 1)
                    culprit.continuation.resume(throwing: error)
                    continue
                }
                let fault = state.withLock { state -> Fault? in
                    state.statistics.failedTransactions += 1
                    // A command the database refuses (`.conflict`, `.invalidData`) is no fault of the store's.
                    guard Self.isStorageFault(error.kind) else { return nil }
                    var fault = state.fault ?? Fault(kind: error.kind, since: WallClock.now(), lastError: error)
                    fault.failedTransactions += 1
                    fault.failedCommands += batch.count
                    fault.lastError = error
                    state.fault = fault
                    return fault
                }
                // A refusal is told before the callers hear it, so the journal has it by the time they do.
                if fault == nil { onRefused?(error, batch.count) }
                for pending in batch { pending.continuation.resume(throwing: error) }
                if let fault { onFault?(fault) }
            }
            resumed = batch.count
        }
    }
}
