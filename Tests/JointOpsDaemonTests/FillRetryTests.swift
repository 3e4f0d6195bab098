import Foundation
import GRDBSQLite
import JointOpsCore
import JointOpsStore
import Testing

@testable import JointOpsDaemon

/// A fill pass whose commit fails is tried again by itself. Reproducer (a concurrency audit,
/// a full disk under load): after the load, a unit was left free while a branch awaited one,
/// in 3 of 8 runs — the undo of a failed fill (or dispatch) had put its units back on the
/// roster, and nothing tried again until some later command freed a unit. Here the failure
/// is another connection holding the database's write lock (an administrator's `sqlite3`
/// shell, say) when jointopsd starts and fills the branches awaiting units; no command
/// follows.
@Suite struct FillRetryTests {
    @Test func aFillWhoseCommitFailedIsTriedAgainWithoutAnotherCommand() async throws {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
            "jointops-fillretry-\(getpid())-\(UUID().uuidString.prefix(6))")
        let workflows = folder.appendingPathComponent("workflows")
        try FileManager.default.createDirectory(at: workflows, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try UnitPreemptRaceTests.workflow.write(to: workflows.appendingPathComponent("race-units.yaml"), atomically: true, encoding: .utf8)
        let log = RecordedLog()
        let catalog = try WorkflowCatalog.load(from: workflows.path, logger: log.logger)
        let path = folder.appendingPathComponent("jointops.sqlite").path
        let store = try EventStore(options: StoreOptions(path: path, busyTimeout: .milliseconds(200)))
        defer { try? store.close() }
        let now = WallClock.now()
        try store.register(catalog.current["race-units"]!, source: catalog.sources["race-units"]!, at: now)
        let tree = try UnitsSetup.tree(at: DaemonHarness.sampleRegions)
        func add(_ id: String) throws -> UnitRoster {
            var roster = UnitRoster(tree: tree)
            for unit in try store.units() { roster.restore(unit) }
            let unit = try UnitsSetup.parse(
                "units:\n  \(id): {call_sign: \(id), branch: swat, home_region: hexi, capabilities: [armed]}\n", file: "units.yaml",
                csv: false, tree: tree
            ).units[0]
            let record = RosterChange.Record(at: now, actor: nil, change: try roster.add(unit))
            try store.commit([], rosters: [RosterChange(records: [record], units: roster.units)])
            return roster
        }
        let caller = Caller(uid: 1001, gid: 1001, pid: 1, name: "zhang", role: .operate)

        // The swat branch wants two units and gets the only one.
        let first = OperationEngine(
            store: store, catalog: catalog, recovered: try store.recover(), metrics: DaemonMetrics(), logger: log.logger,
            roster: try add("fr-swat-1"))
        _ = try await first.start(
            workflow: "race-units", region: "hexi", attributes: ["priority": "P2"], id: "FR-1", requestID: nil, caller: caller)
        _ = try await first.execute(.fire(event: "dispatch"), on: "FR-1", method: "Fire", requestID: nil, caller: caller)
        #expect(await first.operations["FR-1"]?.branches.first?.missingUnits == 1)

        // A second unit joins the roster; jointopsd starts again and fills the branch, while
        // another connection holds the write lock: that fill is not stored.
        let roster = try add("fr-swat-2")
        let engine = OperationEngine(
            store: store, catalog: catalog, recovered: try store.recover(), metrics: DaemonMetrics(), logger: log.logger, roster: roster)
        var other: OpaquePointer?
        #expect(sqlite3_open(path, &other) == SQLITE_OK)
        #expect(sqlite3_exec(other, "BEGIN IMMEDIATE", nil, nil, nil) == SQLITE_OK)
        await engine.fillAwaiting()
        #expect(await engine.operations["FR-1"]?.branches.first?.missingUnits == 1)
        #expect(log.all.contains { $0.contains("filling swat was not stored") }, "\(log.all.suffix(5))")
        sqlite3_exec(other, "ROLLBACK", nil, nil, nil)
        sqlite3_close(other)

        // No command follows: the pass is tried again by itself, and the unit is given.
        // Generous: a cooperative pool busy with other tests can hold the retry up.
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline, await engine.operations["FR-1"]?.branches.first?.missingUnits != 0 {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(await engine.operations["FR-1"]?.branches.first?.assignedUnits.sorted() == ["fr-swat-1", "fr-swat-2"])
        #expect(log.all.contains { $0.contains("filling again in 1 s") }, "\(log.all.suffix(5))")
    }
}
