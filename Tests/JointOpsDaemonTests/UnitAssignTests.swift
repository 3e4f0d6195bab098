import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// Units an operator names for a branch (`units assign`) or takes from another operation
/// (`units preempt`) go only to a branch short of units, and only if they have what it
/// requires.
@Suite(.serialized) struct UnitAssignTests {
    static func assign(_ daemon: DaemonHarness, _ operation: String, _ instance: String, _ units: [String]) throws -> VarlinkReply {
        try daemon.call(
            "io.jointops.Units.Assign",
            [
                "operation": .string(operation), "instance": .string(instance), "units": .array(units.map(JSONValue.string)),
                "reason": .string("nearest"),
            ])
    }

    @Test func anAssignGoesOnlyToAShortBranchWithUnitsThatHaveItsCapabilities() throws {
        let (daemon, roster) = try UnitFillTests.daemon()
        defer { try? FileManager.default.removeItem(at: roster) }
        #expect(try UnitsTests.dispatch(daemon, "OP-A").error == nil)  // swat: s1, s2; public order: p5, p1, p2
        #expect(try UnitsTests.dispatch(daemon, "OP-B").error == nil)  // swat: s3, awaits 1; public order: p3, p4, awaits 1
        let full = try Self.assign(daemon, "OP-A", "swat", ["s4"])
        #expect(full.parameters["code"] == .string("not_short"), "\(full)")
        #expect(
            full.parameters["reason"]
                == .string(
                    "branch swat of OP-A is not short of units: it has 2 of 2; to send more, add a branch instance with `jointopsctl reinforce OP-A swat` (name its units with --unit UNIT --why REASON)"
                ))
        let many = try Self.assign(daemon, "OP-B", "public_order", ["p1", "p2"])
        #expect(many.parameters["code"] == .string("not_short"))
        #expect(
            many.parameters["reason"]?.stringValue?.hasPrefix(
                "branch public_order of OP-B awaits 1 unit (it has 2 of 3), not 2; name at most 1") == true)
        let unarmed = try Self.assign(daemon, "OP-B", "swat", ["s4"])
        #expect(unarmed.parameters["code"] == .string("missing_capability"), "\(unarmed)")
        #expect(
            unarmed.parameters["reason"]
                == .string(
                    "unit 's4' lacks armed, which every unit of branch swat of OP-B must have (armed); name a unit that has it — `jointopsctl units --branch swat --capability armed --status available` lists the free ones"
                ))
        #expect(try UnitsTests.unit(daemon, "s4")?["status"] == .string("available"), "refusals change nothing")
        // Held, OP-B is left alone by the fill: an operator may still fill its shortfall by hand.
        try UnitFillTests.call(daemon, "io.jointops.Operations.Hold", ["id": .string("OP-B"), "reason": .string("briefing")])
        try UnitFillTests.call(daemon, "io.jointops.Units.Change", ["id": .string("s4"), "capabilities": .array([.string("armed")])])
        let assigned = try Self.assign(daemon, "OP-B", "swat", ["s4"])
        #expect(assigned.error == nil, "\(assigned)")
        let swat = UnitsTests.branch(try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-B")]), "swat")
        #expect(UnitsTests.units(swat?["assignedUnits"]) == ["s3", "s4"])
        #expect(swat?["awaitingUnits"] == .int(0))
    }

    static func preempt(_ daemon: DaemonHarness, _ unit: String, _ operation: String, _ instance: String) throws -> VarlinkReply {
        try daemon.call(
            "io.jointops.Units.Preempt",
            ["id": .string(unit), "operation": .string(operation), "instance": .string(instance), "reason": .string("hostages")])
    }

    @Test func aReinforcementsNamedUnitsNeedTheCapabilitiesItsBranchRequires() throws {
        let (daemon, roster) = try UnitFillTests.daemon()
        defer { try? FileManager.default.removeItem(at: roster) }
        #expect(try UnitsTests.dispatch(daemon, "OP-A").error == nil)
        let unarmed = try daemon.call(
            "io.jointops.Operations.Reinforce",
            [
                "id": .string("OP-A"), "branch": .string("swat"), "units": .int(1), "unitIds": .array([.string("s4")]),
                "unitsReason": .string("closest"),
            ])
        #expect(unarmed.parameters["code"] == .string("missing_capability"), "\(unarmed)")
        #expect(
            unarmed.parameters["reason"]?.stringValue?.hasPrefix("unit 's4' lacks armed, which every unit of branch swat#2 of OP-A") == true
        )
        #expect(UnitsTests.items(try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-A")]).operation?["branches"]).count == 3)
    }

    /// Reproducer: a preemption into a branch that had all its units over-staffed it and left
    /// the lower-priority operation short for nothing. (That a victim with more units than it
    /// asked for awaits none is UnitEventTests' `awaitingAfterLosing`: no command can make
    /// such a branch any more.)
    @Test func aPreemptionTakesAUnitOnlyForABranchShortOfUnits() throws {
        let (daemon, roster) = try UnitFillTests.daemon()
        defer { try? FileManager.default.removeItem(at: roster) }
        #expect(try UnitsTests.dispatch(daemon, "OP-LOW", priority: "P3").error == nil)  // swat: s1, s2
        #expect(try UnitsTests.dispatch(daemon, "OP-HIGH", priority: "P1").error == nil)  // swat: s3, awaits 1
        #expect(try Self.preempt(daemon, "s2", "OP-HIGH", "swat").error == nil)
        let full = try Self.preempt(daemon, "s1", "OP-HIGH", "swat")
        #expect(full.parameters["code"] == .string("not_short"), "\(full)")
        #expect(
            full.parameters["reason"]
                == .string(
                    "branch swat of OP-HIGH is not short of units: it has 2 of 2; to send more, add a branch instance with `jointopsctl reinforce OP-HIGH swat` (name its units with --unit UNIT --why REASON)"
                ))
        #expect(try UnitsTests.unit(daemon, "s1")?["operation"] == .string("OP-LOW"))
        let low = UnitsTests.branch(try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-LOW")]), "swat")
        #expect(UnitsTests.units(low?["assignedUnits"]) == ["s1"])
        #expect(low?["awaitingUnits"] == .int(1), "it lost one unit, not two")
    }
}
