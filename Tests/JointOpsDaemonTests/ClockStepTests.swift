import Foundation
import GRDB
import JointOpsCore
import JointOpsProtocol
import JointOpsStore
import Testing

@testable import JointOpsDaemon

/// The system clock may step back (an NTP step, `date -s`, a VM restored): an operation's
/// events still go forward in time, it can still be closed, and no due timer is lost.
@Suite struct ClockStepTests {
    static let hour: Int64 = 3_600_000
    static let minute: Int64 = 60_000
    static let robbery = ["priority": "P2", "weapon_involved": "false"]

    /// Reproducer: a step back made the close's report facts negative (closed before it
    /// started, on scene before dispatched); the store's checks refused them in the close's
    /// transaction, so the operation could never be closed or cancelled (exit 74).
    @Test func aStepBackKeepsAnOperationsEventsInTimeOrderAndItStillCloses() async throws {
        let harness = try EngineHarness(workflows: [try EngineHarness.minimalWorkflow])
        try await harness.start("OP-1", workflow: "street-robbery", attributes: Self.robbery)
        harness.clock.move(by: Self.minute)
        try await harness.run(.fire(event: "assess"), on: "OP-1")
        harness.clock.move(by: Self.minute)
        try await harness.run(.fire(event: "dispatch"), on: "OP-1")
        harness.clock.move(by: -Self.hour)
        try await harness.run(.advance(branch: "patrol", to: "on_scene", outcome: nil), on: "OP-1")
        try await harness.run(.advance(branch: "patrol", to: nil, outcome: "handled"), on: "OP-1")
        try await harness.run(.close(disposition: "resolved"), on: "OP-1")
        #expect(try harness.store.operation("OP-1")?.phaseName == "closed")
        let times = try harness.store.events(of: "OP-1").map(\.at.milliseconds)
        #expect(times == times.sorted(), "\(times)")
        #expect(times.last == Instant.t0.milliseconds + 2 * Self.minute, "held at the last change before the step")
        let report = try harness.store.figures(
            from: Instant.t0 + -Self.hour, to: Instant.t0 + Self.hour, filter: ReportFilter())
        #expect(report.ended == 1, "the close's report facts are stored")
        let noted = harness.log.all.filter { $0.contains("stepped back") }
        #expect(noted.count == 1, "noted once for the step, not at each of its three commands: \(noted)")
        #expect(noted.first?.hasPrefix("notice: OP-1: the system clock is 1h behind") == true, "\(noted)")
    }

    /// A step back of less than a second (the clock's own correction) holds the events just
    /// the same, without a word in the journal.
    @Test func aSmallStepBackHoldsTheEventsQuietly() async throws {
        let harness = try EngineHarness(workflows: [try EngineHarness.minimalWorkflow])
        try await harness.start("OP-1", workflow: "street-robbery", attributes: Self.robbery)
        harness.clock.move(by: -500)
        try await harness.run(.note("after a small step"), on: "OP-1")
        #expect(try harness.store.events(of: "OP-1").last?.at == .t0)
        #expect(!harness.log.all.contains { $0.contains("stepped back") })
    }

    /// Reproducer: a timer taken as due just before the clock stepped back was refused as
    /// not yet due, and lost: the deadline never fired, even once its time came again.
    @Test func aTimerFoundNotYetDueIsArmedAgainForItsDueTime() async throws {
        let harness = try EngineHarness(workflows: [try EngineHarness.minimalWorkflow])
        try await harness.start("OP-1", workflow: "street-robbery", attributes: Self.robbery)
        let due = Instant.t0 + 30 * Self.minute  // the assessment deadline
        harness.clock.move(by: 30 * Self.minute)
        let taken = await harness.engine.timers.takeDue(at: harness.clock.now)
        #expect(taken.map(\.due) == [due])
        harness.clock.move(by: -Self.hour)  // between the scheduler taking it and the engine firing it
        for timer in taken { await harness.engine.fire(timer.key, of: timer.operation) }
        #expect(await harness.engine.timers.nextDue() == due, "armed again: \(harness.log.all)")
        #expect(try harness.store.events(of: "OP-1").allSatisfy { $0.kind != "deadline_missed" })
        harness.clock.move(by: Self.hour)
        await harness.fireDue()
        #expect(try harness.store.events(of: "OP-1").filter { $0.kind == "deadline_missed" }.count == 1)
    }

    /// Reproducer: a change the database refused (a constraint, not the storage) failed its
    /// command — and every other command in its transaction — with nothing in the journal
    /// above debug level.
    @Test func aChangeTheDatabaseRefusesIsLoggedAsAnErrorNamingItsOperation() async throws {
        let harness = try EngineHarness(workflows: [try EngineHarness.minimalWorkflow])
        try await harness.start("OP-1", workflow: "street-robbery", attributes: Self.robbery)
        let database = try DatabaseQueue(path: harness.folder.appendingPathComponent("jointops.sqlite").path)
        try await database.write { db in
            try db.execute(
                sql:
                    "CREATE TRIGGER refuse_notes BEFORE INSERT ON event WHEN NEW.kind = 'noted' BEGIN SELECT RAISE(ABORT, 'no notes today'); END"
            )
        }
        try database.close()
        await #expect(throws: VarlinkError.self) { try await harness.run(.note("refused"), on: "OP-1") }
        let errors = harness.log.all.filter { $0.hasPrefix("error:") }
        #expect(errors.count == 1, "\(harness.log.all)")
        #expect(errors.first?.contains("OP-1: a command was not applied:") == true, "\(errors)")
        #expect(errors.first?.contains("no notes today") == true, "\(errors)")
        #expect(errors.first?.contains("operation=OP-1") == true, "\(errors)")
    }
}

extension Instant {
    static let t0 = Instant(milliseconds: 1_795_910_400_000)  // 2026-11-29T08:00:00+08:00
}
