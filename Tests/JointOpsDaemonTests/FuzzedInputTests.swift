import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// Inputs a fuzzer of every method's parameters found harmful or misleading, end to end over
/// the socket: each is refused at once, naming the parameter, and changes nothing.
@Suite(.serialized) struct FuzzedInputTests {
    static func add(_ daemon: DaemonHarness, _ id: String, callSign: String, capabilities: [String] = []) throws -> VarlinkReply {
        try daemon.call(
            "io.jointops.Units.Add",
            [
                "id": .string(id), "callSign": .string(callSign), "branch": .string("swat"), "homeRegion": .string("hexi-swat"),
                "capabilities": .array(capabilities.map(JSONValue.string)),
            ])
    }

    static func unitIDs(_ daemon: DaemonHarness) throws -> [String] {
        items(try daemon.call("io.jointops.Units.List", ["includeRetired": .bool(true)]).parameters["units"])
            .compactMap { $0["id"]?.stringValue }
    }

    /// Reproducer: a 60,000-character unknown unit id held the engine 1.3 s (its "did you
    /// mean" compared it with every unit, at a cost of the product of the lengths), and a
    /// 1 MB one for over 15 s; string lists had no length limit.
    @Test func aHugeUnitIDIsRefusedAtOnce() throws {
        let daemon = try DaemonHarness(configuration: "max_message_bytes: 4194304\n")
        try daemon.startArmed("OP-LONG")
        for method in ["io.jointops.Units.Assign", "io.jointops.Operations.Reinforce"] {
            let huge = String(repeating: "z", count: 1_000_000)
            let parameters: [String: JSONValue] =
                method.hasSuffix("Assign")
                ? [
                    "operation": .string("OP-LONG"), "instance": .string("swat"), "units": .array([.string(huge)]),
                    "reason": .string("x"),
                ]
                : ["id": .string("OP-LONG"), "branch": .string("swat"), "unitIds": .array([.string(huge)]), "unitsReason": .string("x")]
            let reply = try daemon.call(method, parameters)
            #expect(reply.error == "org.varlink.service.InvalidParameter", "\(method): \(reply.error ?? "no error")")
            #expect(reply.parameters["description"]?.stringValue?.contains("longer than 4096 bytes") == true, "\(method)")
        }
    }

    /// Reproducer: a call sign of a NUL was refused by the database's CHECK only after the
    /// roster had taken the unit, and the "undo" left a retired phantom that blocked the id.
    @Test func aCallSignWithANULOrOnlySpacesIsRefusedAndLeavesNoUnitBehind() throws {
        let daemon = try DaemonHarness()
        for (callSign, parameter) in [("\u{0}", "callSign"), ("SWAT\u{0}1", "callSign")] {
            let reply = try Self.add(daemon, "fz-nul", callSign: callSign)
            #expect(reply.error == "org.varlink.service.InvalidParameter", "\(reply)")
            #expect(reply.parameters["parameter"] == .string(parameter))
        }
        for callSign in [" ", "A\tB", "line\nbreak", String(repeating: "长", count: 65)] {
            let reply = try Self.add(daemon, "fz-nul", callSign: callSign)
            #expect(reply.error == "io.jointops.Units.UnitRefused", "\(callSign.debugDescription): \(reply)")
            #expect(reply.parameters["code"] == .string("invalid_argument"))
        }
        #expect(!(try Self.unitIDs(daemon)).contains("fz-nul"), "nothing of the refused units stays")
        #expect(try Self.add(daemon, "fz-nul", callSign: "津特警9组").error == nil, "the id is free")
    }

    @Test func capabilitiesAndUnitIDsAreNamesAsWorkflowsWriteThem() throws {
        let daemon = try DaemonHarness()
        for capability in ["ARMED", "armed ", "k9\u{7}", "night-vision", String(repeating: "a", count: 65)] {
            let reply = try Self.add(daemon, "fz-cap", callSign: "fz", capabilities: [capability])
            #expect(reply.error == "io.jointops.Units.UnitRefused", "\(capability.debugDescription): \(reply)")
            #expect(reply.parameters["reason"]?.stringValue?.contains("lowercase letters") == true, "\(reply)")
        }
        let changed = try daemon.call(
            "io.jointops.Units.Change", ["id": .string("tj-swat-01"), "capabilities": .array([.string("Armed")])])
        #expect(changed.error == "io.jointops.Units.UnitRefused", "\(changed)")
        let long = try Self.add(daemon, String(repeating: "u", count: 65), callSign: "fz")
        #expect(long.parameters["reason"]?.stringValue?.contains("at most 64") == true, "\(long)")
        #expect(try Self.add(daemon, "fz-cap", callSign: "fz", capabilities: ["armed", "k9", "night_vision"]).error == nil)
    }

    @Test func aNULInAnyStringIsRefusedNamingItsParameter() throws {
        let daemon = try DaemonHarness()
        try daemon.startArmed("OP-1")
        // Show spliced the id into its SQL: a NUL ended the statement early (StorageFailure).
        let shown = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-1\u{0}x")])
        #expect(shown.error == "org.varlink.service.InvalidParameter", "\(shown)")
        #expect(shown.parameters["parameter"] == .string("id"))
        let quoted = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-1' OR '1'='1")])
        #expect(quoted.error == "io.jointops.Operations.OperationNotFound", "\(quoted)")
        let backup = try daemon.call("io.jointops.Admin.Backup", ["path": .string(daemon.folder.path + "/b.sqlite\u{0}.ignored")])
        #expect(backup.parameters["parameter"] == .string("path"), "\(backup)")
    }

    @Test func blankReasonsAreRefused() throws {
        let daemon = try DaemonHarness()
        try daemon.startArmed("OP-R")
        let reinforced = try daemon.call(
            "io.jointops.Operations.Reinforce",
            ["id": .string("OP-R"), "branch": .string("swat"), "unitIds": .array([.string("tj-swat-05")]), "unitsReason": .string(" \t")])
        #expect(reinforced.parameters["parameter"] == .string("unitsReason"), "\(reinforced)")
        let status = try daemon.call(
            "io.jointops.Units.SetStatus", ["id": .string("tj-swat-05"), "status": .string("out_of_service"), "reason": .string(" ")])
        #expect(status.parameters["parameter"] == .string("reason"), "\(status)")
        // Reinforce blamed unitIds for a wrong 'units' when both were given.
        for units in [0, -1] {
            let reply = try daemon.call(
                "io.jointops.Operations.Reinforce",
                [
                    "id": .string("OP-R"), "branch": .string("swat"), "units": .int(Int64(units)),
                    "unitIds": .array([.string("tj-swat-05")]), "unitsReason": .string("r"),
                ])
            #expect(reply.parameters["parameter"] == .string("units"), "\(reply)")
        }
        let shown = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-R")])
        let branches = items(shown.operation?["branches"])
        #expect(branches.count == 0, "nothing was dispatched: \(shown)")
        #expect(try daemon.call("io.jointops.Units.List", ["status": .string("out_of_service")]).parameters["units"] == .array([]))
    }

    @Test func anUnqualifiedMethodIsToldItsInterface() throws {
        let daemon = try DaemonHarness(regions: nil)
        let show = try daemon.call("Show", ["id": .string("OP-1")])
        #expect(show.error == "org.varlink.service.MethodNotFound", "\(show)")
        #expect(show.parameters["description"]?.stringValue?.contains("io.jointops.Operations.Show") == true, "\(show)")
        let typo = try daemon.call("io.jointops.Operations.Shwo", ["id": .string("OP-1")])
        #expect(typo.parameters["description"]?.stringValue?.contains("did you mean 'Show'") == true, "\(typo)")
        let long = try daemon.call(String(repeating: "x.", count: 25_000) + "Show")
        #expect(long.error == "org.varlink.service.InterfaceNotFound", "\(long.error ?? "")")
        #expect((long.parameters["interface"]?.stringValue?.count ?? .max) <= 201, "the name is not echoed whole")
    }
}
