import Foundation
import GRDB
import JointOpsCore
import JointOpsStore
import Testing

/// Someone with the database file edits, deletes, inserts or reorders event rows (dropping
/// the append-only triggers first); the verifier names the first broken event.
@Suite struct TamperTests {
    /// A store with 3 armed-response operations' worth of events (well over 10), closed.
    static func populatedStore(_ folder: TemporaryFolder) throws -> String {
        let path = folder.path("store.sqlite")
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: path, workflows)
        let armed = try #require(workflows.first { $0.0.id == "armed-response" }?.0)
        for change in try startOperations(armed, count: 3) {
            var state = change.state
            try store.commit([change])
            for (minute, event) in [(1, "assess"), (2, "dispatch")] {
                let before = state
                let transition = try state.handle(.fire(event: event), at: state.lastChangeAt + Int64(minute) * 60_000, actor: nil)
                try store.commit([EventStore.Change(state: state, before: before, events: transition.events)])
            }
        }
        #expect(try store.eventCount() > 12)
        #expect(try store.verifyChain().isIntact)
        try store.close()
        return path
    }

    /// Opens the file behind the store's back, as an attacker would.
    static func tamper(_ path: String, _ sql: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "DROP TRIGGER event_is_append_only_update; DROP TRIGGER event_is_append_only_delete;")
            try db.execute(sql: sql)
        }
        try queue.close()
    }

    /// The verifier's report; walked in chunks of 2 and 3 events too (each chunk one read
    /// transaction), which must find the same.
    static func verify(_ path: String) throws -> ChainReport {
        let store = try EventStore(options: StoreOptions(path: path))
        defer { try? store.close() }
        let report = try store.verifyChain()
        for chunk in [2, 3] {
            let chunked = try store.verifyChain(chunk: chunk)
            #expect(chunked.description == report.description && chunked.headSequence == report.headSequence, "chunks of \(chunk)")
        }
        return report
    }

    @Test func theLogRefusesChangesThroughSQLite() throws {
        let folder = try TemporaryFolder()
        let path = try Self.populatedStore(folder)
        let queue = try DatabaseQueue(path: path)
        #expect(throws: DatabaseError.self) {
            try queue.write { try $0.execute(sql: "UPDATE event SET kind = 'noted' WHERE sequence = 3") }
        }
        #expect(throws: DatabaseError.self) { try queue.write { try $0.execute(sql: "DELETE FROM event WHERE sequence = 3") } }
        try queue.close()
    }

    @Test func anEditedRowIsCaught() throws {
        let folder = try TemporaryFolder()
        let path = try Self.populatedStore(folder)
        try Self.tamper(path, "UPDATE event SET payload = replace(payload, 'hexi', 'hedong') WHERE sequence = 5")
        let report = try Self.verify(path)
        #expect(report.firstBreak?.sequence == 5)
        #expect(report.firstBreak?.reason == "its content does not match its hash: the row was edited")
        #expect(report.eventsChecked == 4)
    }

    @Test func anEditedActorIsCaught() throws {
        let folder = try TemporaryFolder()
        let path = try Self.populatedStore(folder)
        try Self.tamper(path, "UPDATE event SET actor_name = 'nobody' WHERE sequence = 2")
        #expect(try Self.verify(path).firstBreak?.sequence == 2)
    }

    @Test func aDeletedRowIsCaught() throws {
        let folder = try TemporaryFolder()
        let path = try Self.populatedStore(folder)
        try Self.tamper(path, "DELETE FROM event WHERE sequence = 7")
        let report = try Self.verify(path)
        #expect(report.firstBreak?.sequence == 7)
        #expect(report.firstBreak?.reason == "event 7 is missing (the next stored is 8): a row was deleted")
    }

    @Test func aDeletedRowWithRenumberingIsCaught() throws {
        let folder = try TemporaryFolder()
        let path = try Self.populatedStore(folder)
        try Self.tamper(path, "DELETE FROM event WHERE sequence = 7; UPDATE event SET sequence = sequence - 1 WHERE sequence > 7;")
        let report = try Self.verify(path)
        #expect(report.firstBreak?.sequence == 7)
        #expect(report.firstBreak?.reason == "its previous hash does not match event 6: a row was deleted, inserted or reordered")
    }

    @Test func anInsertedRowIsCaught() throws {
        let folder = try TemporaryFolder()
        let path = try Self.populatedStore(folder)
        // Make room at 5 (renumbering from the top down), then copy event 4 into it.
        let queue = try DatabaseQueue(path: path)
        let last = try queue.read { try Int64.fetchOne($0, sql: "SELECT max(sequence) FROM event") } ?? 0
        try queue.close()
        var sql = ""
        for sequence in stride(from: last, through: 5, by: -1) {
            sql += "UPDATE event SET sequence = \(sequence + 1) WHERE sequence = \(sequence);"
        }
        sql += """
            INSERT INTO event (sequence, operation_id, operation_sequence, at, actor_uid, actor_name, actor_role, kind, payload, previous_hash, hash)
            SELECT 5, 'OP-FORGED', 1, at, actor_uid, actor_name, actor_role, 'noted', '{"text":"forged"}', previous_hash, hash FROM event WHERE sequence = 4;
            """
        try Self.tamper(path, sql)
        let report = try Self.verify(path)
        #expect(report.firstBreak?.sequence == 5)
        #expect(report.firstBreak?.reason == "its previous hash does not match event 4: a row was deleted, inserted or reordered")
    }

    @Test func reorderedRowsAreCaught() throws {
        let folder = try TemporaryFolder()
        let path = try Self.populatedStore(folder)
        try Self.tamper(
            path,
            "UPDATE event SET sequence = 1000000 WHERE sequence = 6; UPDATE event SET sequence = 6 WHERE sequence = 5; UPDATE event SET sequence = 5 WHERE sequence = 1000000;"
        )
        let report = try Self.verify(path)
        #expect(report.firstBreak?.sequence == 5)
    }

    @Test func anAppendedForgeryIsCaught() throws {
        let folder = try TemporaryFolder()
        let path = try Self.populatedStore(folder)
        try Self.tamper(
            path,
            """
            INSERT INTO event (sequence, operation_id, operation_sequence, at, kind, payload, previous_hash, hash)
            SELECT max(sequence) + 1, 'OP-0', 99, 0, 'noted', '{"text":"x"}', zeroblob(32), zeroblob(32) FROM event;
            """)
        let report = try Self.verify(path)
        #expect(report.firstBreak != nil)
        #expect(report.isIntact == false)
    }

    // MARK: The last events, checked at every start

    static func lastSequence(_ path: String) throws -> Int64 {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { try Int64.fetchOne($0, sql: "SELECT max(sequence) FROM event") } ?? 0
    }

    @Test func theTailOfAnIntactLogEndsAtItsHead() throws {
        let folder = try TemporaryFolder()
        let path = try Self.populatedStore(folder)
        let store = try EventStore(options: StoreOptions(path: path))
        defer { try? store.close() }
        let whole = try store.verifyChain()
        for count in [1, 5, 1000] {
            let tail = try store.verifyTail(last: count)
            #expect(tail.isIntact, "\(tail)")
            #expect(tail.headSequence == (try Self.lastSequence(path)))
            #expect(tail.headHash == whole.headHash)
            #expect(tail.eventsChecked == min(count, whole.eventsChecked))
        }
        let empty = try EventStore(options: StoreOptions(path: folder.path("empty.sqlite")))
        defer { try? empty.close() }
        let none = try empty.verifyTail(last: 1000)
        #expect(none.isIntact && none.headSequence == 0 && none.eventsChecked == 0)
    }

    @Test func anEditAmongTheLastEventsIsCaughtByTheTailCheck() throws {
        let folder = try TemporaryFolder()
        let path = try Self.populatedStore(folder)
        let last = try Self.lastSequence(path)
        try Self.tamper(path, "UPDATE event SET at = at + 1 WHERE sequence = \(last - 2)")
        let store = try EventStore(options: StoreOptions(path: path))
        defer { try? store.close() }
        let tail = try store.verifyTail(last: 5)
        #expect(tail.firstBreak?.sequence == last - 2)
        #expect(tail.firstBreak?.reason == "its content does not match its hash: the row was edited")
        #expect(tail.eventsChecked == 2)
        // Further back than the tail reaches: left to the whole walk (admin verify).
        #expect(try store.verifyTail(last: 2).isIntact)
        #expect(try store.verifyChain().firstBreak?.sequence == last - 2)
    }

    @Test func anAppendedForgeryIsCaughtByTheTailCheck() throws {
        let folder = try TemporaryFolder()
        let path = try Self.populatedStore(folder)
        let last = try Self.lastSequence(path)
        try Self.tamper(
            path,
            """
            INSERT INTO event (sequence, operation_id, operation_sequence, at, kind, payload, previous_hash, hash)
            SELECT max(sequence) + 1, 'OP-0', 99, 0, 'noted', '{"text":"x"}', zeroblob(32), zeroblob(32) FROM event;
            """)
        let store = try EventStore(options: StoreOptions(path: path))
        defer { try? store.close() }
        #expect(try store.verifyTail(last: 3).firstBreak?.sequence == last + 1)
    }

    @Test func aDeletedFirstEventIsCaughtWhenTheTailIsTheWholeLog() throws {
        let folder = try TemporaryFolder()
        let path = try Self.populatedStore(folder)
        try Self.tamper(path, "DELETE FROM event WHERE sequence = 1")
        let store = try EventStore(options: StoreOptions(path: path))
        defer { try? store.close() }
        let tail = try store.verifyTail(last: 1000)
        #expect(tail.firstBreak?.sequence == 1)
        #expect(tail.firstBreak?.reason == "event 1 is missing (the next stored is 2): a row was deleted")
    }
}
