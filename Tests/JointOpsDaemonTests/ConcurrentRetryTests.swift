import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// Calls that race each other on the socket: the same request id in flight on several
/// connections, and a unit whose status changes while it moves between operations.
@Suite(.serialized) struct ConcurrentRetryTests {
    /// Sends `calls` at once, each on a connection of its own opened beforehand, then reads
    /// their replies (in the same order; nil where the connection failed).
    static func together(_ daemon: DaemonHarness, _ calls: [(String, [String: JSONValue])]) throws -> [VarlinkReply?] {
        let clients = try calls.map { _ in try daemon.client() }
        for (client, (method, parameters)) in zip(clients, calls) {
            try client.send(VarlinkCall(method: method, parameters: parameters))
        }
        return clients.map { try? $0.receive() }
    }

    /// Reproducer: 8 copies of one Start (no operation id, one request id) sent at once got
    /// StorageFailure "UNIQUE constraint failed: client_request.id" for most copies, though
    /// the first had applied, and unrelated Starts committed in the same batch failed with them.
    @Test func oneRequestIDOnManyConnectionsAtOnceIsAppliedOnceAndAnsweredAlike() throws {
        let daemon = try DaemonHarness()
        let start: [String: JSONValue] = [
            "workflow": .string("public-assistance"), "region": .string("hexi"),
            "attributes": .object(["request_type": .string("missing_person")]),
        ]
        for round in 0..<12 {
            var copy = start
            copy["requestId"] = .string("retry-\(round)")
            var bystander = start
            bystander["requestId"] = .string("other-\(round)")
            let calls =
                Array(repeating: ("io.jointops.Operations.Start", copy), count: 8)
                + [("io.jointops.Operations.Start", bystander), ("io.jointops.Operations.Start", start)]
            let replies = try Self.together(daemon, calls)
            let copies = replies.prefix(8)
            #expect(copies.allSatisfy { $0?.error == nil }, "round \(round): \(copies.map { $0?.error ?? "no reply" })")
            #expect(Set(copies.compactMap { $0?.parameters["operation"]?["id"]?.stringValue }).count == 1, "one operation, one answer")
            #expect(replies.suffix(2).allSatisfy { $0?.error == nil }, "bystanders: \(replies.suffix(2).map { $0?.error ?? "no reply" })")
        }
        let open = items(try daemon.call("io.jointops.Operations.List").parameters["operations"])
        #expect(open.count == 12 * 3, "each round started 3 operations: the 8 copies' one and 2 bystanders")
        // The same id on another operation's command, while the first is in flight, is refused by name.
        try daemon.startArmed("OP-A")
        try daemon.startArmed("OP-B")
        let pair = try Self.together(
            daemon,
            ["OP-A", "OP-B"].map {
                ("io.jointops.Operations.Note", ["id": .string($0), "text": .string("x"), "requestId": .string("twice")])
            })
        #expect(pair.compactMap { $0?.error }.sorted() == ["org.varlink.service.InvalidParameter"], "\(pair.map { $0?.error })")
        #expect(try daemon.call("io.jointops.Admin.Verify").parameters["intact"] == .bool(true))
        daemon.stop()
    }

    /// One branch that needs two intelligence analysts, so that a unit freed by one operation
    /// goes at once to the next one waiting.
    static let scarce = """
        workflow: scarce
        version: 1
        title: Scarce units
        attributes:
          priority: {type: priority, required: true}
        phases:
          active:
            initial: true
            dispatch: [intel]
            on: {wrap: reviewing}
          reviewing: {}
        branches:
          intel:
            kind: intelligence
            units: 2
            steps:
              s0: {initial: true, next: [done, stood_down]}
              done: {end: completed}
              stood_down: {end: stood_down}
        close: {from: [reviewing], dispositions: [resolved]}
        """

    /// Reproducer: a status change for unit X waited for operation A's lock while A was
    /// cancelled and X went to B; it then released X in the roster only, so B listed X as its
    /// own while the roster had it free (and gave it to a third operation).
    @Test func aStatusChangeWaitingWhileItsUnitMovesIsAppliedWhereTheUnitNowServes() throws {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
            "scarce-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.scarce.write(to: folder.appendingPathComponent("scarce.yaml"), atomically: true, encoding: .utf8)
        let daemon = try DaemonHarness(workflows: folder.path)
        let unit = "bdc-analyst-01"
        for other in 2...5 {
            let reply = try daemon.call(
                "io.jointops.Units.SetStatus",
                ["id": .string("bdc-analyst-0\(other)"), "status": .string("out_of_service"), "reason": .string("leave only one")])
            #expect(reply.error == nil, "\(reply.parameters)")
        }
        func start(_ id: String) throws -> VarlinkReply {
            try daemon.call(
                "io.jointops.Operations.Start",
                [
                    "workflow": .string("scarce"), "id": .string(id), "region": .string("hexi"),
                    "attributes": .object(["priority": .string("P3")]),
                ])
        }
        func servesOf(_ id: String) throws -> Bool {
            let view = try daemon.call("io.jointops.Operations.Show", ["id": .string(id)]).parameters["operation"]
            return (view?["branches"]?.arrayValue?.first?["assignedUnits"]?.arrayValue ?? []).contains(.string(unit))
        }
        func rosterOperation() throws -> JSONValue? {
            let units = items(try daemon.call("io.jointops.Units.List", ["branch": .string("intelligence")]).parameters["units"])
            return units.first { $0["id"] == .string(unit) }?["operation"]
        }
        for round in 0..<10 {
            let (a, b) = ("UA-\(round)", "UB-\(round)")
            #expect(try start(a).error == nil)
            #expect(try servesOf(a), "round \(round): \(unit) serves \(a)")
            #expect(try start(b).error == nil)  // waits for units
            let note: (String, [String: JSONValue]) = ("io.jointops.Operations.Note", ["id": .string(a), "text": .string("busy")])
            _ = try Self.together(
                daemon,
                Array(repeating: note, count: 4) + [
                    ("io.jointops.Operations.Cancel", ["id": .string(a), "reason": .string("false alarm")]),
                    (
                        "io.jointops.Units.SetStatus",
                        ["id": .string(unit), "status": .string("returning"), "reason": .string("back to base")]
                    ),
                ])
            // Whatever order they ran in, the operations and the roster agree about the unit
            // once the fill pass that follows the cancel has committed (the roster changes first).
            var listed = try servesOf(b)
            var roster = try rosterOperation()
            for _ in 0..<40 where listed != (roster == .string(b)) {
                usleep(25_000)
                (listed, roster) = (try servesOf(b), try rosterOperation())
            }
            #expect(
                listed == (roster == .string(b)),
                "round \(round): \(b) lists \(unit): \(listed); the roster says \(String(describing: roster))")
            #expect(try daemon.call("io.jointops.Operations.Cancel", ["id": .string(b), "reason": .string("reset")]).error == nil)
            _ = try daemon.call(
                "io.jointops.Units.SetStatus", ["id": .string(unit), "status": .string("available"), "reason": .string("reset")])
        }
        daemon.stop()
    }
}

/// The unit metrics count what each command did to a unit, whatever else changed it meanwhile.
@Suite(.serialized) struct UnitGaugeRaceTests {
    /// Reproducer: a Cancel sending SWAT units `returning`, raced by SetStatus `available` for
    /// the same units on other connections, counted the SetStatus twice (once as the cancel's
    /// change, read from the roster after its commit): 46 of 32 SWAT units available, −14 returning.
    @Test func theUnitGaugesEqualTheRosterAfterRacingChanges() throws {
        let daemon = try DaemonHarness()
        for round in 0..<12 {
            let id = "GR-\(round)"
            let dispatched = try UnitsTests.dispatch(daemon, id)
            let swat = UnitsTests.units(UnitsTests.branch(dispatched, "swat")?["assignedUnits"])
            #expect(!swat.isEmpty, "\(dispatched)")
            _ = try ConcurrentRetryTests.together(
                daemon,
                [("io.jointops.Operations.Cancel", ["id": .string(id), "reason": .string("false_alarm")])]
                    + swat.map {
                        ("io.jointops.Units.SetStatus", ["id": .string($0), "status": .string("available"), "reason": .string("back")])
                    })
            // Units the SetStatus reached before the cancel released them come back now.
            for unit in items(try daemon.call("io.jointops.Units.List", ["status": .string("returning")]).parameters["units"]) {
                _ = try daemon.call("io.jointops.Units.SetStatus", ["id": unit["id"]!, "status": .string("available")])
            }
        }
        let units = items(try daemon.call("io.jointops.Units.List").parameters["units"])
        var roster: [String: Int] = [:]
        for unit in units where unit["retired"] != .bool(true) {
            roster["\(unit["status"]?.stringValue ?? "?"),\(unit["branch"]?.stringValue ?? "?")", default: 0] += 1
        }
        var gauges: [String: Int] = [:]
        let text = try daemon.call("io.jointops.Admin.Metrics").parameters["text"]?.stringValue ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("jointops_units{") {
            let labels = line.split(separator: "{")[1].split(separator: "}")[0]
            let pairs = labels.split(separator: ",").map {
                $0.split(separator: "=")[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
            let value = Int(Double(line.split(separator: " ").last ?? "") ?? -999)
            if value != 0 { gauges["\(pairs[0]),\(pairs[1])"] = value }
        }
        #expect(gauges == roster, "metrics \(gauges.sorted { $0.key < $1.key }) against the roster \(roster.sorted { $0.key < $1.key })")
        daemon.stop()
    }
}
