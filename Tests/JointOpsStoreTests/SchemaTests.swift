import Foundation
import GRDB
import JointOpsStore
import Testing

/// The rebuilt branch table (migration 0005) keeps its rules and its place among the keys.
@Suite struct SchemaTests {
    @Test func theRebuiltBranchTableKeepsItsRulesAndKeys() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("store.sqlite")
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: path, workflows)
        try store.commit(try startOperations(workflows[0].0, count: 3))
        try store.close()
        let db = try DatabaseQueue(path: path)
        try db.read { db in
            #expect(try Row.fetchAll(db, sql: "PRAGMA foreign_key_check").isEmpty)
            let referenced = try String.fetchAll(db, sql: "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list('step')")
            #expect(referenced == ["branch"])
            let sql = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'branch'") ?? ""
            #expect(!sql.contains(" IN ("), "\(sql)")
        }
        try db.write { db in
            let operation = try #require(try String.fetchOne(db, sql: "SELECT id FROM operation LIMIT 1"))
            try db.execute(
                sql: """
                    INSERT INTO branch (operation_id, position, instance, branch, step, status, region, units, dispatched_at)
                    VALUES (?, 0, 'b', 'b', 's', 'active', 'r', 1, 0)
                    """, arguments: [operation])
            for status in ["completed", "failed", "stood_down", "active"] {
                try db.execute(sql: "UPDATE branch SET status = ? WHERE operation_id = ?", arguments: [status, operation])
            }
            #expect(throws: DatabaseError.self) {
                try db.execute(sql: "UPDATE branch SET status = 'lost' WHERE operation_id = ?", arguments: [operation])
            }
            #expect(throws: DatabaseError.self) {
                try db.execute(
                    sql: """
                        INSERT INTO branch (operation_id, position, instance, branch, step, status, region, units, dispatched_at)
                        VALUES ('no such operation', 0, 'b', 'b', 's', 'active', 'r', 1, 0)
                        """)
            }
        }
        try db.close()
    }
}

/// Armed timers are kept and recovered by operation only (migration 0006).
@Suite struct TimerTableTests {
    @Test func timersHaveNoIndexByDueAndStillRecover() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("store.sqlite")
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: path, workflows)
        let started = try startOperations(workflows[0].0, count: 3)
        try store.commit(started)
        try store.close()
        let db = try DatabaseQueue(path: path)
        let indexes = try db.read { db in try String.fetchAll(db, sql: "SELECT name FROM pragma_index_list('timer')") }
        try db.close()
        #expect(!indexes.contains("timer_by_due"), "\(indexes)")
        let reopened = try EventStore(options: StoreOptions(path: path))
        let recovered = try reopened.recover().operations
        #expect(
            Dictionary(uniqueKeysWithValues: recovered.map { ($0.id, $0.timers) })
                == Dictionary(uniqueKeysWithValues: started.map { ($0.state.id, $0.state.timers) }))
        #expect(recovered.contains { !$0.timers.isEmpty })
        try reopened.close()
    }
}

/// The chain head kept in memory between commits never runs ahead of the disk.
@Suite struct ChainHeadTests {
    @Test func twoStoresOnOneFileTakeTurnsWithAnIntactChain() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("store.sqlite")
        let workflows = try Library.workflows()
        let first = try EventStore.withLibrary(at: path, workflows)
        // Two stores on one file only by asking: by default the second is refused (StoreLockTests).
        var options = StoreOptions(path: path)
        options.exclusive = false
        let second = try EventStore(options: options)
        var turns = 0
        for round in 0..<4 {
            // Each store's remembered head is stale after the other's commit.
            try first.commit(try startOperations(workflows[0].0, count: 2, prefix: "A\(round)-"))
            try second.commit(try startOperations(workflows[0].0, count: 2, prefix: "B\(round)-"))
            turns += 2
        }
        #expect(try first.verifyChain().isIntact)
        #expect(try second.allOperations().count == turns * 2)
        try second.close()
        try first.close()
    }

    @Test func aFailedBatchLeavesNoHeadBehind() throws {
        let folder = try TemporaryFolder()
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: folder.path("store.sqlite"), workflows)
        let changes = try startOperations(workflows[0].0, count: 3)
        try store.commit([changes[0]])
        // The same operation started twice in one batch: the batch fails part-way, after its
        // first events were appended inside the transaction.
        #expect(throws: StoreError.self) { try store.commit([changes[1], changes[1]]) }
        try store.commit([changes[2]])
        try store.commit([changes[1]])
        #expect(try store.verifyChain().isIntact)
        #expect(try store.eventCount() == changes.reduce(0) { $0 + $1.events.count })
        try store.close()
    }
}

/// SQLite's plan for `sql` on a fresh store: the `detail` of each step.
private func queryPlan(_ sql: String, arguments: StatementArguments) throws -> [String] {
    let folder = try TemporaryFolder()
    let path = folder.path("store.sqlite")
    try EventStore(options: StoreOptions(path: path)).close()
    return try DatabaseQueue(path: path).read { db in
        try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map { $0["detail"] as String? ?? "" }
    }
}

/// Reproducer (a scale audit): forgetting replies older than the retention scanned every
/// kept reply while holding the writer — with 555,000 kept, every command waited up to
/// 11 s every 10 minutes, even when none was old enough to go.
@Suite struct ClientRequestRetentionPlanTests {
    @Test func oldRepliesAreFoundThroughAnIndexNotAScanOfAllThatAreKept() throws {
        let plan = try queryPlan(EventStore.forgetClientRequestsSQL, arguments: [0, 1000])
        #expect(plan.contains { $0.contains("client_request USING COVERING INDEX client_request_at (at<?)") }, "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN client_request") }, "\(plan)")
    }
}

/// A page of `History` reads its own rows through the index on (operation_id,
/// operation_sequence), in order, not a scan of a stream of 401,000 events and a sort.
@Suite struct EventPagePlanTests {
    @Test func aPageOfEventsIsReadThroughTheIndexInItsOrder() throws {
        let plan = try queryPlan(EventStore.eventPageSQL, arguments: ["@units", 0, Int64.max, 1000])
        #expect(
            plan.contains {
                $0.contains(
                    "SEARCH event USING INDEX sqlite_autoindex_event_1 (operation_id=? AND operation_sequence>? AND operation_sequence<?)")
            }, "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN") || $0.contains("TEMP B-TREE") }, "\(plan)")
    }
}
