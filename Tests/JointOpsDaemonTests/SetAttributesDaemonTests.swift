import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// `SetAttributes` end to end over the socket, and `jointopsctl set`: an armed-response
/// operation started without a weapon is dispatched without SWAT; confirming the weapon in
/// `responding` (whose swat dispatch is `when: weapon_involved`) sends SWAT at once.
@Suite(.serialized) struct SetAttributesDaemonTests {
    static let unarmed: [String: JSONValue] = [
        "workflow": .string("armed-response"), "region": .string("hexi"),
        "attributes": .object(["incident_type": .string("armed_robbery"), "priority": .string("P2")]),
    ]

    /// Started without a weapon, assessed and dispatched: public order and traffic are out.
    static func responding(_ daemon: DaemonHarness, _ id: String) throws {
        var start = unarmed
        start["id"] = .string(id)
        #expect(try daemon.call("io.jointops.Operations.Start", start).error == nil)
        for event in ["assess", "dispatch"] {
            let reply = try daemon.call("io.jointops.Operations.Fire", ["id": .string(id), "event": .string(event)])
            #expect(reply.error == nil, "\(reply)")
        }
    }

    static func instances(_ reply: VarlinkReply) -> [String] {
        items(reply.operation?["branches"]).compactMap { $0["instance"]?.stringValue }
    }

    @Test func confirmingAWeaponDispatchesSWATAndARetryAppliesNothingAgain() throws {
        let daemon = try DaemonHarness()
        try Self.responding(daemon, "OP-SET")
        let set: [String: JSONValue] = [
            "id": .string("OP-SET"), "attributes": .object(["weapon_involved": .string("true")]), "requestId": .string("set-1"),
        ]
        let reply = try daemon.call("io.jointops.Operations.SetAttributes", set)
        #expect(reply.error == nil, "\(reply)")
        #expect(Self.instances(reply) == ["public_order", "traffic", "swat"])
        #expect(reply.operation?["attributes"]?["weapon_involved"] == .string("true"))
        #expect(reply.operation?["allowed"]?.arrayValue?.contains(.string("set")) == true)
        let swat = items(reply.operation?["branches"]).first { $0["instance"] == .string("swat") }
        #expect(items(swat?["assignedUnits"]).count == 2, "SWAT's units are chosen as on a dispatch: \(String(describing: swat))")
        let again = try daemon.call("io.jointops.Operations.SetAttributes", set)
        #expect(again.operation == reply.operation, "a retry returns the first result")
        let history = items(try daemon.call("io.jointops.Operations.History", ["id": .string("OP-SET")]).parameters["events"])
        #expect(history.filter { $0["kind"] == .string("attributes_changed") }.count == 1)
        #expect(history.filter { $0["kind"] == .string("branch_dispatched") }.count == 3)
    }

    @Test func aRefusedChangeNamesTheAttributeOrTheParameter() throws {
        let daemon = try DaemonHarness()
        try Self.responding(daemon, "OP-BAD")
        let unknown = try daemon.call(
            "io.jointops.Operations.SetAttributes", ["id": .string("OP-BAD"), "attributes": .object(["weapon_involvd": .string("true")])])
        #expect(unknown.error == "io.jointops.Operations.CommandRefused")
        #expect(unknown.parameters["code"] == .string("invalid_attribute"))
        #expect(
            unknown.parameters["reason"]
                == .string("workflow 'armed-response' has no attribute 'weapon_involvd'; did you mean 'weapon_involved'?"))
        let wrongType = try daemon.call(
            "io.jointops.Operations.SetAttributes", ["id": .string("OP-BAD"), "attributes": .object(["priority": .string("high")])])
        #expect(wrongType.parameters["reason"] == .string("attribute 'priority' must be a priority P1, P2, P3 or P4; got 'high'"))
        let empty = try daemon.call("io.jointops.Operations.SetAttributes", ["id": .string("OP-BAD"), "attributes": .object([:])])
        #expect(empty.error == "org.varlink.service.InvalidParameter")
        #expect(empty.parameters["parameter"] == .string("attributes"))
        let notText = try daemon.call(
            "io.jointops.Operations.SetAttributes", ["id": .string("OP-BAD"), "attributes": .object(["hostages": .int(2)])])
        #expect(notText.error == "org.varlink.service.InvalidParameter")
        #expect(notText.parameters["parameter"] == .string("attributes"))
        let missing = try daemon.call(
            "io.jointops.Operations.SetAttributes", ["id": .string("OP-404"), "attributes": .object(["priority": .string("P1")])])
        #expect(missing.error == "io.jointops.Operations.OperationNotFound")
    }

    @Test func jointopsctlSetPrintsExactlyThis() throws {
        let daemon = try DaemonHarness()
        try Self.responding(daemon, "OP-8")
        let socket = daemon.socket
        let set = try CommandLineOutputTests.ctl(["set", "OP-8", "weapon_involved=true", "priority=P1"], socket: socket)
        #expect(set.status == 0, "\(set.stderr)")
        #expect(
            set.stdout
                == "OP-8: set weapon_involved true, priority P1; phase responding; public_order at dispatched, traffic at dispatched, swat at dispatched (hx-swat-01, hx-swat-02)\n"
        )
        let history = try CommandLineOutputTests.ctl(["history", "OP-8"], socket: socket)
        #expect(history.stdout.contains("root (admin)  attributes: priority P2 → P1, weapon_involved false → true\n"), "\(history.stdout)")
        let same = try CommandLineOutputTests.ctl(["set", "OP-8", "weapon_involved=yes"], socket: socket)
        #expect(same.status == 1)
        #expect(same.stdout == "")
        #expect(
            same.stderr.hasPrefix(
                """
                refused: weapon_involved is already true: nothing changes.
                  phase: responding
                  allowed now: fire contained; advance public_order
                """), "\(same.stderr)")
        let required = try CommandLineOutputTests.ctl(["set", "OP-8", "priority="], socket: socket)
        #expect(required.status == 1)
        #expect(
            required.stderr.hasPrefix(
                "refused: attribute 'priority' is required by workflow 'armed-response'; it cannot be removed.\n"), "\(required.stderr)")
        let json = try CommandLineOutputTests.ctl(["set", "OP-8", "hostages=3", "--json"], socket: socket)
        #expect(json.status == 0)
        #expect(
            try JSONParser.parse(json.stdout.trimmingCharacters(in: .newlines))["operation"]?["attributes"]?["hostages"] == .string("3"))
        let noValue = try CommandLineOutputTests.ctl(["set", "OP-8"], socket: socket)
        #expect(noValue.status == 64)
        #expect(noValue.stderr.hasPrefix("Error: give at least one NAME=VALUE, e.g. priority=P1\n"), "\(noValue.stderr)")
        let noEquals = try CommandLineOutputTests.ctl(["set", "OP-8", "priority"], socket: socket)
        #expect(noEquals.status == 64)
        #expect(noEquals.stderr.hasPrefix("Error: 'priority' must be NAME=VALUE, e.g. priority=P1\n"), "\(noEquals.stderr)")
        let twice = try CommandLineOutputTests.ctl(["set", "OP-8", "priority=P1", "priority=P2"], socket: socket)
        #expect(twice.status == 64)
        #expect(twice.stderr.hasPrefix("Error: priority is given twice ('P1' and 'P2'); give it once\n"), "\(twice.stderr)")
    }
}
