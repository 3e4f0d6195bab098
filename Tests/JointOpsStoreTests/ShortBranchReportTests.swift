import Foundation
import GRDB
import JointOpsCore
import Testing

@testable import JointOpsStore

/// "dispatch → all units assigned" measures only branches that had all their units at last;
/// the report counts the others beside it, also for facts stored before migration 0009.
@Suite struct ShortBranchReportTests {
    /// OP-F's public order gets its three units at once; OP-S's gets one and awaits two for
    /// good. Both are cancelled.
    static func store() throws -> (EventStore, TemporaryFolder) {
        let folder = try TemporaryFolder()
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: folder.path("store.sqlite"), workflows)
        let armed = try #require(workflows.first { $0.0.id == "armed-response" }?.0)
        for (id, units) in [
            ("OP-F", [OperationEvent.unitsAssigned(instance: 0, units: ["p1", "p2", "p3"], reasons: ["", "", ""])]),
            (
                "OP-S", [.unitsAssigned(instance: 0, units: ["p4"], reasons: [""]), .unitsAwaited(instance: 0, missing: 2)]
            ),
        ] {
            var driver = try ReportTests.Driver(store, armed, id: id, region: "hexi", at: ReportTests.t0)
            try driver.at(30, .fire(event: "assess"))
            try driver.at(60, .fire(event: "dispatch"))
            var state = driver.state
            let transition = state.recordUnits(units, at: Instant(milliseconds: ReportTests.t0 + 60_000), actor: nil)
            try store.commit([EventStore.Change(state: state, before: driver.state, events: transition.events)])
            driver.state = state
            try driver.at(600, .cancel(reason: "false_alarm"))
        }
        return (store, folder)
    }

    static func figures(_ store: EventStore) throws -> [String: Double?] {
        let report = try store.evaluationReport(
            from: Instant(milliseconds: ReportTests.t0), to: Instant(milliseconds: ReportTests.t0 + ReportTests.day), filter: ReportFilter()
        )
        var figures: [String: Double?] = [:]
        for row in report.rows where row.figure.hasPrefix("dispatch_to_assigned.") { figures[row.figure] = row.current }
        return figures
    }

    @Test func branchesThatNeverHadAllTheirUnitsAreCountedBesideTheTimeToAssign() throws {
        let (store, folder) = try Self.store()
        _ = folder
        let figures = try Self.figures(store)
        #expect(figures["dispatch_to_assigned.count"] == 1, "\(figures)")
        #expect(figures["dispatch_to_assigned.never"] == 1, "\(figures)")
        #expect(figures["dispatch_to_assigned.p50"] == 0)
    }

    @Test func migration0009JudgesFactsStoredBeforeItFromTheirEvents() throws {
        let (store, folder) = try Self.store()
        try store.pool.write { db in
            try db.execute(
                sql: """
                    ALTER TABLE report_branch DROP COLUMN units_short;
                    DELETE FROM grdb_migrations WHERE identifier LIKE '0009 %';
                    """)
        }
        try store.close()
        let reopened = try EventStore(options: StoreOptions(path: folder.path("store.sqlite")))
        #expect(reopened.migrated?.contains("to 0009") == true, "\(String(describing: reopened.migrated))")
        let figures = try Self.figures(reopened)
        #expect(figures["dispatch_to_assigned.count"] == 1, "\(figures)")
        #expect(figures["dispatch_to_assigned.never"] == 1, "\(figures)")
        try reopened.close()
    }
}
