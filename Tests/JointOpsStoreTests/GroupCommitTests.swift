import Foundation
import GRDB
import JointOpsCore
import Synchronization
import Testing

@testable import JointOpsStore

/// Acknowledge after commit: concurrent commands share transactions; a failed batch fails
/// every command in it and leaves nothing on disk.
@Suite struct GroupCommitTests {
    /// `writers` concurrent operators, each starting an operation and adding `notes` notes.
    static func runWriters(
        _ committer: GroupCommitter, _ workflow: Workflow, writers: Int, notes: Int, prefix: String = "OP"
    ) async throws -> Int {
        let starts = try startOperations(workflow, count: writers, prefix: prefix)
        return try await withThrowingTaskGroup(of: Int.self) { group in
            for start in starts {
                group.addTask {
                    var state = start.state
                    try await committer.commit(start)
                    var events = start.events.count
                    for note in 0..<notes {
                        let before = state
                        let transition = try state.handle(.note("report \(note)"), at: state.lastChangeAt + 1000, actor: nil)
                        try await committer.commit(EventStore.Change(state: state, before: before, events: transition.events))
                        events += transition.events.count
                    }
                    return events
                }
            }
            return try await group.reduce(0, +)
        }
    }

    @Test func concurrentCommandsShareTransactions() async throws {
        let folder = try TemporaryFolder()
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: folder.path("store.sqlite"), workflows) { $0.batchMaxWait = .milliseconds(2) }
        let committer = GroupCommitter(store: store)
        let acknowledged = try await Self.runWriters(committer, workflows[0].0, writers: 64, notes: 20)
        let statistics = committer.statistics
        #expect(statistics.changes == 64 * 21)
        #expect(statistics.transactions < statistics.changes / 4, "group commit should batch: \(statistics)")
        #expect(try store.eventCount() == acknowledged)
        #expect(try store.verifyChain().isIntact)
        #expect(try store.allOperations().count == 64)
    }

    @Test func everyCallerLearnsWhereItsEventsWentInTheLog() async throws {
        let folder = try TemporaryFolder()
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: folder.path("store.sqlite"), workflows) { $0.batchMaxWait = .milliseconds(2) }
        let committer = GroupCommitter(store: store)
        let starts = try startOperations(workflows[0].0, count: 32, prefix: "OP-P")
        let placed = try await withThrowingTaskGroup(of: (String, Int, Int64).self) { group in
            for start in starts {
                group.addTask { (start.state.id, start.events.count, try await committer.commit(start).changes[0]) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(committer.statistics.transactions < 32, "the callers shared transactions")
        for (operation, count, first) in placed {
            let logged = try store.events(of: operation)
            #expect(logged.map(\.sequence) == Array(first..<first + Int64(count)), "\(operation)")
        }
    }

    @Test func theBatchCallbackHearsEveryCommittedTransactionsSizeTimeAndWaits() async throws {
        let folder = try TemporaryFolder()
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: folder.path("store.sqlite"), workflows) { $0.batchMaxWait = .milliseconds(2) }
        let batches = Mutex<[GroupCommitter.CommittedBatch]>([])
        let committer = GroupCommitter(store: store, onBatch: { batch in batches.withLock { $0.append(batch) } })
        _ = try await Self.runWriters(committer, workflows[0].0, writers: 16, notes: 5)
        let reported = batches.withLock { $0 }
        #expect(reported.count == committer.statistics.transactions)
        #expect(reported.map(\.commands).reduce(0, +) == 16 * 6)
        #expect(reported.allSatisfy { $0.commands >= 1 && $0.waits.count == $0.commands })
        #expect(reported.allSatisfy { $0.transaction > .zero })
        let transactions = reported.map(\.transaction).reduce(.zero, +)
        let writing = Duration.nanoseconds(Int64(committer.statistics.writingNanoseconds))
        #expect(transactions == writing, "the transactions' times are those the committer counted")
    }

    /// A lone command among four in flight waits for company: its wait says so.
    @Test func aCommandsWaitForCompanyIsReported() async throws {
        let folder = try TemporaryFolder()
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: folder.path("store.sqlite"), workflows) { $0.batchMaxWait = .milliseconds(300) }
        let batches = Mutex<[GroupCommitter.CommittedBatch]>([])
        let committer = GroupCommitter(store: store, onBatch: { batch in batches.withLock { $0.append(batch) } })
        committer.setCommandsInFlight(4)
        try await committer.commit(try startOperations(workflows[0].0, count: 1)[0])
        let waits = batches.withLock { $0.flatMap(\.waits) }
        #expect(waits.count == 1)
        #expect(waits.allSatisfy { $0 >= .milliseconds(250) && $0 < .seconds(5) }, "\(waits)")
    }

    /// The committer's transaction stays open for changes handed over while it writes: they
    /// commit with the first, in the order handed over, or not at all.
    @Test func changesHandedOverToAnOpenTransactionCommitWithItOrNotAtAll() throws {
        let folder = try TemporaryFolder()
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: folder.path("store.sqlite"), workflows)
        let starts = try startOperations(workflows[0].0, count: 6, prefix: "OP-H")
        var handovers = [Array(starts[2..<4]), Array(starts[4..<6])]
        let placement = try store.commit(Array(starts[0..<2]), rosters: []) {
            handovers.isEmpty ? nil : EventStore.Handover(changes: handovers.removeFirst(), rosters: [])
        }
        #expect(handovers.isEmpty)
        for (change, first) in zip(starts, placement.changes) {
            #expect(try store.events(of: change.state.id).first?.sequence == first, "\(change.state.id)")
        }
        #expect(placement.changes == placement.changes.sorted() && placement.changes.count == 6)
        #expect(try store.verifyChain().isIntact)

        // A handover that cannot be written (OP-H0 started again) fails the whole transaction.
        let events = try store.eventCount()
        let more = try startOperations(workflows[0].0, count: 2, prefix: "OP-J")
        var failing = [[starts[0]]]
        #expect(throws: StoreError.self) {
            try store.commit(more, rosters: []) {
                failing.isEmpty ? nil : EventStore.Handover(changes: failing.removeFirst(), rosters: [])
            }
        }
        #expect(try store.eventCount() == events, "nothing of the failed transaction is on disk")
        #expect(try store.operation("OP-J0") == nil)
        // And the store goes on.
        try store.commit(more)
        #expect(try store.verifyChain().isIntact)
    }

    /// A change the database refuses fails its own command; the others of its batch commit
    /// in the next transaction instead of failing with it.
    @Test func aRefusedChangeFailsItsCommandAloneAndTheRestOfItsBatchCommits() async throws {
        let folder = try TemporaryFolder()
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: folder.path("store.sqlite"), workflows) { $0.batchMaxWait = .milliseconds(20) }
        let committer = GroupCommitter(store: store)
        let starts = try startOperations(workflows[0].0, count: 8)
        try await committer.commit(starts[0])
        // Eight commands arrive together; one of them starts OP-0 a second time.
        let results = await withTaskGroup(of: (String, StoreError?).self) { group in
            for change in [starts[0]] + starts[1...] {
                group.addTask {
                    do {
                        try await committer.commit(change)
                        return (change.state.id, nil)
                    } catch {
                        return (change.state.id, error as? StoreError)
                    }
                }
            }
            return await group.reduce(into: [(String, StoreError?)]()) { $0.append($1) }
        }
        let failed = results.filter { $0.1 != nil }
        #expect(failed.map(\.0) == ["OP-0"], "only the refused command fails: \(failed)")
        #expect(failed.allSatisfy { $0.1?.kind == .conflict && $0.1!.message.contains("UNIQUE constraint failed") })
        #expect(failed.first?.1?.operation == "OP-0")
        let stored = Set(try store.allOperations().map(\.id))
        #expect(stored == Set(starts.map(\.state.id)))
        #expect(try store.verifyChain().isIntact)
        #expect(committer.statistics.failedTransactions == 1)
    }

    /// A failure of the storage (here another process's lock) puts the committer in a fault,
    /// counted in failed commands, until a transaction commits again; a command the database
    /// refuses does not.
    @Test func aStorageFaultLastsUntilATransactionCommitsAgain() async throws {
        let folder = try TemporaryFolder()
        let path = folder.path("store.sqlite")
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: path, workflows) { $0.busyTimeout = .milliseconds(50) }
        let heard = Mutex<[GroupCommitter.Fault]>([])
        let committer = GroupCommitter(store: store, onFault: { fault in heard.withLock { $0.append(fault) } })
        let starts = try startOperations(workflows[0].0, count: 3)
        try await committer.commit(starts[0])
        await #expect(throws: StoreError.self) { try await committer.commit(starts[0]) }
        #expect(committer.fault == nil, "a refused command is no fault of the store's")
        // Another connection holds the write lock, on a thread of its own, until told to let go.
        let other = try HeldWriteLock(path: path)
        for change in starts[1...] {
            await #expect(throws: StoreError.self) { try await committer.commit(change) }
        }
        let fault = try #require(committer.fault)
        #expect(fault.kind == .locked && fault.failedTransactions == 2 && fault.failedCommands == 2 && fault.ended == nil)
        #expect(fault.lastError.reclaim == nil, "only a full disk empties the WAL")
        other.release()
        try await committer.commit(starts[1])
        #expect(committer.fault == nil)
        // The end is told on the writer's thread after the callers are resumed.
        for _ in 0..<100 where heard.withLock({ $0.count }) < 3 { try await Task.sleep(for: .milliseconds(10)) }
        let faults = heard.withLock { $0 }
        #expect(faults.map(\.failedCommands) == [1, 2, 2])
        #expect(faults.map { $0.ended != nil } == [false, false, true])
        #expect(faults.allSatisfy { $0.since == fault.since })
        try other.close()
        try store.close()
    }

    /// With the commands in flight reported, a batch waits for company only until half of
    /// them are here: a lone command, and one of two, are written at once.
    @Test func aBatchWaitsOnlyForHalfOfTheCommandsInFlight() {
        #expect(!GroupCommitter.waitsForCompany(pending: 1, inFlight: 1))
        #expect(!GroupCommitter.waitsForCompany(pending: 1, inFlight: 2))
        #expect(GroupCommitter.waitsForCompany(pending: 1, inFlight: 3))
        #expect(GroupCommitter.waitsForCompany(pending: 1, inFlight: 4))
        #expect(!GroupCommitter.waitsForCompany(pending: 2, inFlight: 4))
        #expect(GroupCommitter.waitsForCompany(pending: 31, inFlight: 64))
        #expect(!GroupCommitter.waitsForCompany(pending: 32, inFlight: 64))
    }

    /// And the committer follows the rule: one command of four in flight waits out
    /// batchMaxWait for company (a lower bound on time, which a loaded machine only
    /// lengthens), then is written alone.
    @Test func oneCommandOfFourInFlightWaitsForCompany() async throws {
        let folder = try TemporaryFolder()
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: folder.path("store.sqlite"), workflows) { $0.batchMaxWait = .seconds(1) }
        let committer = GroupCommitter(store: store)
        committer.setCommandsInFlight(4)
        let start = try startOperations(workflows[0].0, count: 1)[0]
        let clock = ContinuousClock()
        let began = clock.now
        try await committer.commit(start)
        let waited = clock.now - began
        #expect(waited >= .milliseconds(900), "one of four in flight should wait for company: \(waited)")
        #expect(committer.statistics.transactions == 1)
    }
}

/// Reopening a store gives back the open operations and their timers, earliest first.
@Suite struct RecoveryTests {
    @Test func overdueTimersComeBackInDueOrderAndFireWithTheirLateness() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("store.sqlite")
        let workflows = try Library.workflows()
        let armed = try #require(workflows.first { $0.0.id == "armed-response" }?.0)
        var live: [OperationState] = []
        do {
            let store = try EventStore.withLibrary(at: path, workflows)
            for (index, change) in try startOperations(armed, count: 5).enumerated() {
                var state = change.state
                try store.commit([change])
                for event in ["assess", "dispatch"] {
                    let before = state
                    let transition = try state.handle(.fire(event: event), at: state.lastChangeAt + Int64(index + 1) * 60_000, actor: nil)
                    try store.commit([EventStore.Change(state: state, before: before, events: transition.events)])
                }
                live.append(state)
            }
            try store.close()
        }
        let store = try EventStore(options: StoreOptions(path: path))
        let recovery = try store.recover()
        #expect(Set(recovery.operations.map(\.id)) == Set(live.map(\.id)))
        #expect(recovery.operations.sorted { $0.id < $1.id } == live.sorted { $0.id < $1.id })
        #expect(recovery.timers.map(\.due) == recovery.timers.map(\.due).sorted())
        #expect(recovery.timers.count == live.map(\.runningTimers.count).reduce(0, +))
        // The daemon was down for two hours: every timer is overdue and fires, in order.
        let now = live.map(\.lastChangeAt).max()! + 2 * 3_600_000
        let overdue = recovery.overdue(at: now)
        #expect(overdue.count == recovery.timers.count)
        var states = Dictionary(uniqueKeysWithValues: recovery.operations.map { ($0.id, $0) })
        for timer in overdue {
            guard var state = states[timer.operation], state.timers.contains(where: { $0.key == timer.key }) else { continue }
            let before = state
            let transition = try state.handle(.timerFired(timer.key), at: now, actor: nil)
            if case .deadlineMissed(_, _, let lateness)? = transition.events.first?.event {
                #expect(lateness == now.since(timer.due))
            }
            try store.commit([EventStore.Change(state: state, before: before, events: transition.events)])
            states[timer.operation] = state
        }
        #expect(try store.verifyChain().isIntact)
        for id in states.keys { #expect(try store.replay(id) == states[id]) }
    }
}

/// SQLite's online backup API under write load, and a restore from it.
@Suite struct BackupTests {
    @Test func aBackupTakenUnderLoadRestoresWithAnIntactChain() async throws {
        let folder = try TemporaryFolder()
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: folder.path("live.sqlite"), workflows)
        let committer = GroupCommitter(store: store)
        let load = Task { try await GroupCommitTests.runWriters(committer, workflows[0].0, writers: 16, notes: 200) }
        while committer.statistics.changes < 200 { try await Task.sleep(for: .milliseconds(5)) }
        try store.backup(to: folder.path("backup.sqlite"))
        let writtenDuringBackup = committer.statistics.changes
        let total = try await load.value
        #expect(writtenDuringBackup < 16 * 201, "the backup should have run while writers were still going")
        // Restore: the backup file is a complete store.
        let restored = try EventStore(options: StoreOptions(path: folder.path("backup.sqlite")))
        let report = try restored.verifyChain()
        #expect(report.isIntact, "\(report)")
        #expect(report.eventsChecked > 0 && report.eventsChecked < total)
        for operation in try restored.allOperations() { #expect(try restored.replay(operation.id) == operation) }
        #expect(try store.eventCount() == total)
    }
}
