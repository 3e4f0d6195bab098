import Foundation
import JointOpsCore
import Testing

@testable import JointOpsStore

/// Recovery of many open operations reads them in parts on several readers at once; what it
/// returns must be what one reader returns, in the same order.
@Suite struct RecoveryInPartsTests {
    @Test func partsRecoverWhatOneReaderDoesInTheSameOrder() throws {
        let folder = try TemporaryFolder()
        let workflows = try Library.workflows()
        let armed = try #require(workflows.first { $0.0.id == "armed-response" }?.0)
        let store = try EventStore.withLibrary(at: folder.path("store.sqlite"), workflows, options: { $0.durability = .normal })
        let count = EventStore.operationsWorthParts + 700
        var open: [OperationState] = []
        var changes: [EventStore.Change] = []
        for index in 0..<count {
            // Ids not in the order operations started, and some starting at the same instant,
            // so the parts' id ranges cut across the start order and its ties.
            let id = "OP-\(String(index * 7919 % count, radix: 36))"
            let at = Instant(milliseconds: 1_795_910_400_000 + Int64(index / 3) * 1000)
            var (state, start) = try OperationState.start(
                armed, id: id, region: "hexi", attributes: ["incident_type": "armed_robbery", "priority": "P1", "weapon_involved": "true"],
                at: at, actor: nil)
            var events = start.events
            let commands: [Command] =
                switch index % 4 {
                case 0: []
                case 1: [.fire(event: "assess")]
                case 2: [.fire(event: "assess"), .fire(event: "dispatch")]
                default: [.cancel(reason: "duplicate")]
                }
            for command in commands { events += try state.handle(command, at: state.lastChangeAt + 60_000, actor: nil).events }
            changes.append(EventStore.Change(state: state, before: nil, events: events))
            if !state.phase.isTerminal { open.append(state) }
            if changes.count == 500 {
                try store.commit(changes)
                changes.removeAll()
            }
        }
        try store.commit(changes)
        try store.close()

        let reopened = try EventStore(options: StoreOptions(path: folder.path("store.sqlite")))
        defer { try? reopened.close() }
        let parts = try reopened.pool.read { db in try EventStore.recoveryParts(db, count: 3) }
        #expect(parts.count == 3, "\(open.count) open operations should be read in 3 parts")
        let one = try reopened.recover(inParts: 1)
        let three = try reopened.recover(inParts: 3)
        open.sort { ($0.startedAt, $0.id) < ($1.startedAt, $1.id) }
        // Compared as one Bool each: a difference would print thousands of states.
        #expect(one.operations.map(\.id) == open.map(\.id))
        #expect(three.operations.map(\.id) == open.map(\.id))
        let oneIsLive = one.operations == open
        let threeIsLive = three.operations == open
        let sameTimers = three.timers == one.timers
        #expect(oneIsLive, "one reader recovered operations that differ from those committed")
        #expect(threeIsLive, "three parts recovered operations that differ from those committed")
        #expect(sameTimers, "three parts recovered \(three.timers.count) timers, one reader \(one.timers.count)")
        #expect(one.timers.count == open.map(\.runningTimers.count).reduce(0, +))
        #expect(one.timers.map(\.due) == one.timers.map(\.due).sorted())
    }

    @Test func fewOperationsAreReadInOnePart() throws {
        let folder = try TemporaryFolder()
        let workflows = try Library.workflows()
        let armed = try #require(workflows.first { $0.0.id == "armed-response" }?.0)
        let store = try EventStore.withLibrary(at: folder.path("store.sqlite"), workflows)
        try store.commit(try startOperations(armed, count: 10))
        let parts = try store.pool.read { db in try EventStore.recoveryParts(db, count: 4) }
        #expect(parts.count == 1)
        #expect(try store.recover(inParts: 4).operations.count == 10)
        try store.close()
    }

    @Test func mergeKeepsTheOrderAcrossParts() {
        #expect(EventStore.merge([[1, 4, 9], [2, 3, 10], [], [0, 9]], by: <) == [0, 1, 2, 3, 4, 9, 9, 10])
        #expect(EventStore.merge([[Int]](), by: <) == [])
    }
}
