import GRDB
import JointOpsCore
import Testing

@testable import JointOpsStore

/// The report facts a close or cancel writes, built from the operation's history replayed
/// before the transaction (`Change.history`) rather than by a replay inside it.
@Suite struct EndingFactsTests {
    /// OP-3 of `ReportTests` (a perimeter deadline missed, then met late) in a store of its
    /// own, run to just before its close.
    struct Setup {
        let folder: TemporaryFolder
        let store: EventStore
        let armed: Workflow
        var driver: ReportTests.Driver

        init() throws {
            folder = try TemporaryFolder()
            let workflows = try Library.workflows()
            store = try EventStore.withLibrary(at: folder.path("store.sqlite"), workflows)
            armed = try #require(workflows.first { $0.0.id == "armed-response" }?.0)
            driver = try ReportTests.Driver(store, armed, id: "OP-3", region: "heping", at: ReportTests.t0)
            try driver.run(arrive: 600, complete: 300, contained: 1200, close: nil)
        }

        /// The close's change at 3000 s, not committed.
        mutating func close() throws -> EventStore.Change { try driver.change(at: 3000, .close(disposition: "suspect_arrested")) }

        func history() throws -> ReplayedHistory { try store.replayedHistory(of: "OP-3", workflow: armed) }

        /// Every report row, in a fixed order.
        func reportRows() throws -> [[DatabaseValue]] {
            try store.pool.read { db in
                try ["report_operation", "report_branch", "report_deadline"].flatMap { table in
                    try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY 1, 2, 3").map { Array($0.databaseValues) }
                }
            }
        }
    }

    @Test func factsBuiltFromTheHistoryEqualThoseTheWriterReplays() async throws {
        var replaying = try Setup()
        try replaying.store.commit([replaying.close()])
        var ahead = try Setup()
        var change = try ahead.close()
        change.history = try ahead.history()
        #expect(change.factsFromHistory()?.facts != nil)
        try await GroupCommitter(store: ahead.store).commit(change)
        let rows = try ahead.reportRows()
        #expect(rows.count == 1 + 2 + 3, "the operation, its two branches, its three deadline runs: \(rows)")
        #expect(rows == (try replaying.reportRows()))
    }

    @Test func theWriterInsertsTheFactsBuiltAheadWithoutReplaying() throws {
        var setup = try Setup()
        var change = try setup.close()
        change.history = try setup.history()
        var prepared = try #require(change.factsFromHistory())
        prepared.facts?.disposition = "built ahead"
        change.facts = prepared
        try setup.store.commit([change])
        let disposition = try setup.store.pool.read { db in try String.fetchOne(db, sql: "SELECT disposition FROM report_operation") }
        #expect(disposition == "built ahead")
    }

    @Test func aHistoryReadBeforeAnotherChangeLandedIsNotUsed() async throws {
        var setup = try Setup()
        let stale = try setup.history()
        try setup.driver.at(2990, .note("one more event"))
        var change = try setup.close()
        change.history = stale
        #expect(change.factsFromHistory() == nil, "the history lacks the note: the writer must replay the log itself")
        change.history = try setup.history()
        #expect(change.factsFromHistory() != nil)
        change.history = stale
        try await GroupCommitter(store: setup.store).commit(change)
        let ended = try await setup.store.pool.read { db in try Int64.fetchOne(db, sql: "SELECT ended_at FROM report_operation") }
        #expect(ended == ReportTests.t0 + 3_000_000, "the writer replayed the log and wrote the facts")
    }
}
