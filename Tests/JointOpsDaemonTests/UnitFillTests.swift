import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// Branches awaiting units are filled whenever a free unit may fit one: not only when a unit
/// is released, but after a preemption, a resume, a unit's new capabilities.
@Suite(.serialized) struct UnitFillTests {
    /// A daemon on `UnitsTests.smallRoster` (three armed SWAT units, one unarmed).
    static func daemon(name: String = #function) throws -> (DaemonHarness, URL) {
        let roster = try UnitsTests.folder(["units.csv": UnitsTests.smallRoster])
        return (try DaemonHarness(units: roster.appendingPathComponent("units.csv").path, name: name), roster)
    }

    /// The branch instance as `Show` has it once `done` holds, or after 5 s as it is then.
    static func branch(
        _ daemon: DaemonHarness, _ operation: String, _ instance: String, until done: (JSONValue?) -> Bool
    ) throws -> JSONValue? {
        var branch: JSONValue?
        for _ in 0..<100 {
            branch = UnitsTests.branch(try daemon.call("io.jointops.Operations.Show", ["id": .string(operation)]), instance)
            if done(branch) { break }
            usleep(50_000)
        }
        return branch
    }

    static func call(_ daemon: DaemonHarness, _ method: String, _ parameters: [String: JSONValue]) throws {
        let reply = try daemon.call(method, parameters)
        #expect(reply.error == nil, "\(method): \(reply)")
    }

    @Test func aPreemptionsVictimGetsAFreeUnitAtOnce() throws {
        let (daemon, roster) = try Self.daemon()
        defer { try? FileManager.default.removeItem(at: roster) }
        #expect(try UnitsTests.dispatch(daemon, "OP-V", priority: "P3").error == nil)  // swat: s1, s2
        var hostage = armedStart
        hostage["id"] = .string("OP-H")
        hostage["attributes"] = .object([
            "incident_type": .string("hostage_taking"), "priority": .string("P1"), "weapon_involved": .string("true"),
        ])
        try Self.call(daemon, "io.jointops.Operations.Start", hostage)
        try Self.call(daemon, "io.jointops.Operations.Fire", ["id": .string("OP-H"), "event": .string("assess")])
        try Self.call(daemon, "io.jointops.Operations.Fire", ["id": .string("OP-H"), "event": .string("dispatch")])
        // Only s2 is armed and a negotiator: OP-H takes it; OP-V, armed only, may use s3, which is free.
        try Self.call(
            daemon, "io.jointops.Units.Preempt",
            ["id": .string("s2"), "operation": .string("OP-H"), "instance": .string("swat"), "reason": .string("hostages")])
        let victim = try Self.branch(daemon, "OP-V", "swat") { $0?["awaitingUnits"] == .int(0) }
        #expect(UnitsTests.units(victim?["assignedUnits"]) == ["s1", "s3"], "\(String(describing: victim))")
    }

    @Test func aHeldOperationIsSkippedByTheFillAndFilledWhenResumed() throws {
        let (daemon, roster) = try Self.daemon()
        defer { try? FileManager.default.removeItem(at: roster) }
        #expect(try UnitsTests.dispatch(daemon, "OP-A").error == nil)  // swat: s1, s2
        #expect(try UnitsTests.dispatch(daemon, "OP-B").error == nil)  // swat: s3, awaits 1
        try Self.call(daemon, "io.jointops.Operations.Hold", ["id": .string("OP-B"), "reason": .string("briefing")])
        try Self.call(
            daemon, "io.jointops.Operations.Advance", ["id": .string("OP-A"), "branch": .string("swat"), "step": .string("stood_down")])
        try Self.call(daemon, "io.jointops.Units.SetStatus", ["id": .string("s1"), "status": .string("available")])
        usleep(300_000)
        #expect(try UnitsTests.unit(daemon, "s1")?["status"] == .string("available"), "OP-B is held: not filled")
        try Self.call(daemon, "io.jointops.Operations.Resume", ["id": .string("OP-B")])
        let resumed = try Self.branch(daemon, "OP-B", "swat") { $0?["awaitingUnits"] == .int(0) }
        #expect(UnitsTests.units(resumed?["assignedUnits"]) == ["s3", "s1"], "\(String(describing: resumed))")
    }

    @Test func aFreeUnitGivenTheCapabilityABranchAwaitsFillsIt() throws {
        let (daemon, roster) = try Self.daemon()
        defer { try? FileManager.default.removeItem(at: roster) }
        #expect(try UnitsTests.dispatch(daemon, "OP-A").error == nil)  // swat: s1, s2
        #expect(try UnitsTests.dispatch(daemon, "OP-B").error == nil)  // swat: s3, awaits 1 armed (s4 is not)
        try Self.call(daemon, "io.jointops.Units.Change", ["id": .string("s4"), "capabilities": .array([.string("armed")])])
        let filled = try Self.branch(daemon, "OP-B", "swat") { $0?["awaitingUnits"] == .int(0) }
        #expect(UnitsTests.units(filled?["assignedUnits"]) == ["s3", "s4"], "\(String(describing: filled))")
    }
}
