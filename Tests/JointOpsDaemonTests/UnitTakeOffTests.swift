import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// A committed unit an operator takes off its branch (`units status UNIT returning REASON`):
/// the branch awaits a replacement as after a preemption, and its history says why.
@Suite(.serialized) struct UnitTakeOffTests {
    static func history(_ daemon: DaemonHarness, _ operation: String) throws -> [String] {
        UnitsTests.items(try daemon.call("io.jointops.Operations.History", ["id": .string(operation)]).parameters["events"])
            .compactMap { $0["description"]?.stringValue }
    }

    static func setStatus(_ daemon: DaemonHarness, _ unit: String, _ status: String, _ reason: String) throws -> VarlinkReply {
        try daemon.call("io.jointops.Units.SetStatus", ["id": .string(unit), "status": .string(status), "reason": .string(reason)])
    }

    @Test func aUnitTakenOffItsBranchLeavesItAwaitingAReplacementWithTheReasonRecorded() throws {
        let workflows = try UnitsTests.armedResponse(
            appending: "awaiting_units:\n  within: 1s\n  escalation:\n    - {after: 0s, notify: duty_commander}\n")
        let roster = try UnitsTests.folder(["units.csv": UnitsTests.smallRoster])
        defer {
            try? FileManager.default.removeItem(at: workflows)
            try? FileManager.default.removeItem(at: roster)
        }
        let daemon = try DaemonHarness(workflows: workflows.path, units: roster.appendingPathComponent("units.csv").path)
        #expect(try UnitsTests.dispatch(daemon, "OP-A").error == nil)  // swat: s1, s2
        #expect(try UnitsTests.dispatch(daemon, "OP-B").error == nil)  // swat: s3, awaits 1: no armed unit is left
        #expect(try Self.setStatus(daemon, "s1", "returning", "officer injured").error == nil)
        let shown = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-A")])
        let swat = UnitsTests.branch(shown, "swat")
        #expect(UnitsTests.units(swat?["assignedUnits"]) == ["s2"])
        #expect(swat?["awaitingUnits"] == .int(1), "\(String(describing: swat))")
        let history = try Self.history(daemon, "OP-A")
        #expect(history.suffix(2) == ["swat released s1 → returning: officer injured", "swat awaiting 1 more unit"], "\(history)")
        var overdue: [JSONValue] = []
        for _ in 0..<100 {
            overdue = UnitsTests.items(try daemon.call("io.jointops.Operations.Overdue").parameters["overdue"])
            if overdue.contains(where: { $0["operation"] == .string("OP-A") }) { break }
            usleep(50_000)
        }
        #expect(overdue.contains { $0["operation"] == .string("OP-A") && $0["deadline"] == .string("awaiting_units:swat") }, "\(overdue)")
        try daemon.restart()
        let recovered = UnitsTests.branch(try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-A")]), "swat")
        #expect(recovered?["awaitingUnits"] == .int(1))
        #expect(try daemon.call("io.jointops.Admin.Verify").parameters["intact"] == .bool(true))
    }

    @Test func aUnitSetAvailableOffItsBranchIsNotHandedBackToIt() throws {
        let roster = try UnitsTests.folder(["units.csv": UnitsTests.smallRoster])
        defer { try? FileManager.default.removeItem(at: roster) }
        let daemon = try DaemonHarness(units: roster.appendingPathComponent("units.csv").path)
        #expect(try UnitsTests.dispatch(daemon, "OP-A").error == nil)  // swat: s1, s2
        #expect(try UnitsTests.dispatch(daemon, "OP-B").error == nil)  // swat: s3, awaits 1
        #expect(try Self.setStatus(daemon, "s1", "available", "called away by the duty commander").error == nil)
        // OP-A, dispatched first, awaits a replacement now, but not s1: that goes to OP-B.
        let other = try UnitFillTests.branch(daemon, "OP-B", "swat") { $0?["awaitingUnits"] == .int(0) }
        #expect(UnitsTests.units(other?["assignedUnits"]) == ["s3", "s1"], "\(String(describing: other))")
        let left = UnitsTests.branch(try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-A")]), "swat")
        #expect(UnitsTests.units(left?["assignedUnits"]) == ["s2"])
        #expect(left?["awaitingUnits"] == .int(1))
    }
}
