import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// Inputs a robustness review found harmful or misleading, each end to end over the socket:
/// the daemon stays up, refuses clearly, and changes nothing.
@Suite(.serialized) struct HostileInputTests {
    @Test func deeplyNestedJSONIsRefusedAndTheDaemonStaysUp() throws {
        let daemon = try DaemonHarness(regions: nil)
        let client = try daemon.client()
        // 5,000 levels in 10 KB: it used to overflow the stack of the thread parsing it,
        // before any role was checked.
        let nested = String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)
        try client.sendRaw(Array("{\"method\": \"org.varlink.service.GetInfo\", \"parameters\": {\"x\": \(nested)}}".utf8) + [0])
        let reply = try client.receive()
        #expect(reply.error == "org.varlink.service.InvalidParameter")
        #expect(reply.parameters["parameter"] == .string("(message)"))
        #expect(reply.parameters["description"]?.stringValue?.contains("nested deeper than 64") == true, "\(reply)")
        #expect(try daemon.call("org.varlink.service.GetInfo").error == nil, "the daemon still answers")
    }

    /// Reproducer: an unknown parameter's name was echoed whole, twice: 60 KB in, 120 KB out.
    @Test func anUnknownParameterWithAHugeNameIsEchoedClipped() throws {
        let daemon = try DaemonHarness(regions: nil)
        let name = String(repeating: "x", count: 3000)
        let reply = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-1"), name: .bool(true)])
        #expect(reply.error == "org.varlink.service.InvalidParameter")
        let parameter = try #require(reply.parameters["parameter"]?.stringValue)
        #expect(parameter == String(repeating: "x", count: 100) + "…")
        #expect(reply.parameters["description"]?.stringValue?.hasSuffix("; the parameters are id") == true, "\(reply)")
    }

    @Test func bytesThatAreNotUTF8AreRefusedNotRepaired() throws {
        let daemon = try DaemonHarness(regions: nil)
        try daemon.startArmed("OP-8")
        let client = try daemon.client()
        // A note whose text holds a byte that is not UTF-8 used to be stored with U+FFFD in its place.
        try client.sendRaw(
            Array(#"{"method": "io.jointops.Operations.Note", "parameters": {"id": "OP-8", "text": "bad "#.utf8) + [0xFF, 0xFE]
                + Array(#""}}"#.utf8) + [0])
        let reply = try client.receive()
        #expect(reply.parameters["parameter"] == .string("(message)"), "\(reply)")
        #expect(reply.parameters["description"]?.stringValue?.contains("not UTF-8") == true, "\(reply)")
        let notes = items(try daemon.call("io.jointops.Operations.History", ["id": .string("OP-8")]).parameters["events"])
            .filter { $0["kind"] == .string("noted") }
        #expect(notes.isEmpty)
        // Reproducer: a call asking for a protocol upgrade was answered as a plain call.
        try client.sendRaw(Array(#"{"method": "io.jointops.Operations.List", "upgrade": true}"#.utf8) + [0])
        let upgrade = try client.receive()
        #expect(upgrade.error == "org.varlink.service.InvalidParameter", "\(upgrade)")
        #expect(upgrade.parameters["parameter"] == .string("upgrade"), "\(upgrade)")
    }

    /// varlink.org: "the server must adhere to" `oneway`. A oneway call that cannot run (a
    /// watch, which is nothing but replies; a malformed envelope) was answered with its error,
    /// which the caller then took for the reply to its next call.
    @Test func aOnewayCallGetsNoReplyEvenWhenItCannotRun() throws {
        let daemon = try DaemonHarness(regions: nil)
        let client = try daemon.client()
        let cannotRun = [
            #"{"method": "io.jointops.Operations.Watch", "more": true, "oneway": true}"#,
            #"{"method": "io.jointops.Operations.Watch", "oneway": true}"#,
            #"{"method": "io.jointops.Operations.List", "upgrade": true, "oneway": true}"#,
            #"{"method": "io.jointops.Operations.List", "parameters": [], "oneway": true}"#,
            #"{"method": "io.jointops.Operations.List", "more": "yes", "oneway": true}"#,
            #"{"method": "io.jointops.Operations.Nope", "oneway": true}"#,
        ]
        for message in cannotRun { try client.sendRaw(Array(message.utf8) + [0]) }
        try client.send(VarlinkCall(method: "org.varlink.service.GetInfo"))
        let reply = try client.receive()
        #expect(reply.error == nil && reply.parameters["product"] == .string("jointopsd"), "the first reply is GetInfo's: \(reply)")
    }

    /// A text of only spaces was CommandRefused for Escalate and the reinforcement's region,
    /// while the same mistake elsewhere (an empty reason) was InvalidParameter naming it.
    @Test func aParameterWrongInItselfIsInvalidParameterNamingIt() throws {
        let daemon = try DaemonHarness(regions: nil)
        try daemon.startArmed("OP-P")
        let cases: [(String, [String: JSONValue], String)] = [
            ("Escalate", ["id": .string("OP-P"), "reason": .string("   ")], "reason"),
            ("Hold", ["id": .string("OP-P"), "reason": .string("  ")], "reason"),
            ("Reassign", ["id": .string("OP-P"), "region": .string(" ")], "region"),
            (
                "Start",
                [
                    "workflow": .string("armed-response"), "region": .string(" "), "id": .string("OP-Q"),
                    "attributes": .object(["incident_type": .string("armed_robbery"), "priority": .string("P1")]),
                ], "region"
            ),
        ]
        for (method, parameters, parameter) in cases {
            let reply = try daemon.call("io.jointops.Operations.\(method)", parameters)
            #expect(reply.error == "org.varlink.service.InvalidParameter", "\(method): \(reply)")
            #expect(reply.parameters["parameter"] == .string(parameter), "\(method): \(reply)")
        }
        let history = items(try daemon.call("io.jointops.Operations.History", ["id": .string("OP-P")]).parameters["events"])
        #expect(!history.contains { $0["kind"] == .string("escalation_raised") || $0["kind"] == .string("held") }, "nothing applied")
    }

    @Test func loneSurrogatesInJSONAreRefusedSoTwoRequestIDsStayApart() throws {
        let daemon = try DaemonHarness(regions: nil)
        try daemon.startArmed("OP-S")
        let client = try daemon.client()
        func note(requestID: String) throws -> VarlinkReply {
            try client.sendRaw(
                Array(
                    #"{"method": "io.jointops.Operations.Note", "parameters": {"id": "OP-S", "text": "perimeter holding", "requestId": "\#(requestID)"}}"#
                        .utf8) + [0])
            return try client.receive()
        }
        // Reproducer: both were read as "r-\u{FFFD}", so the first note was applied and the
        // second, another command, was answered as its retry.
        for requestID in [#"r-\ud800"#, #"r-\udfff"#] {
            let reply = try note(requestID: requestID)
            #expect(reply.error == "org.varlink.service.InvalidParameter", "\(reply)")
            #expect(reply.parameters["parameter"] == .string("(message)"), "\(reply)")
            #expect(reply.parameters["description"]?.stringValue?.contains("lone surrogate is not a character") == true, "\(reply)")
        }
        // Characters beyond the BMP written as surrogate pairs are read, each as itself.
        #expect(try note(requestID: #"r-\ud83d\ude00"#).error == nil)
        #expect(try note(requestID: #"r-\ud83d\ude01"#).error == nil)
        let notes = items(try daemon.call("io.jointops.Operations.History", ["id": .string("OP-S")]).parameters["events"])
            .filter { $0["kind"] == .string("noted") }
        #expect(notes.count == 2, "\(notes)")
    }

    @Test func operationIDsAreLettersDigitsAndAFewMarks() throws {
        let daemon = try DaemonHarness(regions: nil)
        // A NUL is refused with every string parameter's, before the id's own rules.
        #expect(try daemon.startArmed("OP-\u{0}-x").parameters["parameter"] == .string("id"))
        for bad in ["OP 1; drop", "E\u{1B}[31mRED", "OP-A\n", "-OP", String(repeating: "x", count: 65), "行动-1"] {
            let reply = try daemon.startArmed(bad)
            // A mistake in the call, as every other parameter's: InvalidParameter naming it.
            #expect(reply.error == "org.varlink.service.InvalidParameter", "\(bad.debugDescription): \(reply)")
            #expect(reply.parameters["parameter"] == .string("id"))
            #expect(reply.parameters["description"]?.stringValue?.contains("e.g. OP-2026-0001") == true, "\(reply)")
        }
        #expect(try daemon.startArmed("OP-2026.x_1").error == nil)
        let listed = items(try daemon.call("io.jointops.Operations.List").parameters["operations"])
        #expect(listed.map { $0["id"] } == [.string("OP-2026.x_1")], "nothing refused was stored")
        // A NUL in an id used to be stored cut short and read as an edited row ever after.
        #expect(try daemon.call("io.jointops.Admin.Verify").parameters["intact"] == .bool(true))
    }

    @Test func aRequestIDRepeatedWithOtherParametersIsRefused() throws {
        let daemon = try DaemonHarness(regions: nil)
        var first = armedStart
        first["id"] = .string("R1")
        first["requestId"] = .string("rq-1")
        #expect(try daemon.call("io.jointops.Operations.Start", first).error == nil)
        // The exact retry (members in another order make no difference) gets the first reply.
        let retry = try daemon.client()
        try retry.sendRaw(Array(VarlinkCall(method: "io.jointops.Operations.Start", parameters: first).json.utf8) + [0])
        #expect(try retry.receive().operation?["id"] == .string("R1"))
        var other = first
        other["id"] = .string("R2")
        let refused = try daemon.call("io.jointops.Operations.Start", other)
        #expect(refused.error == "org.varlink.service.InvalidParameter", "\(refused)")
        #expect(refused.parameters["parameter"] == .string("requestId"))
        #expect(refused.parameters["description"]?.stringValue?.contains("with other parameters") == true, "\(refused)")
        #expect(try daemon.call("io.jointops.Operations.Show", ["id": .string("R2")]).error == "io.jointops.Operations.OperationNotFound")

        let note: [String: JSONValue] = ["id": .string("R1"), "text": .string("first"), "requestId": .string("rq-2")]
        #expect(try daemon.call("io.jointops.Operations.Note", note).error == nil)
        var changed = note
        changed["text"] = .string("DIFFERENT")
        #expect(try daemon.call("io.jointops.Operations.Note", changed).parameters["parameter"] == .string("requestId"))
        let notes = items(try daemon.call("io.jointops.Operations.History", ["id": .string("R1")]).parameters["events"])
            .filter { $0["kind"] == .string("noted") }
        #expect(notes.count == 1)

        // Too long, or with a control character: said so, not a storage fault.
        for bad in [String(repeating: "r", count: 201), "rq\n3"] {
            var long = note
            long["requestId"] = .string(bad)
            let reply = try daemon.call("io.jointops.Operations.Note", long)
            #expect(reply.error == "org.varlink.service.InvalidParameter", "\(reply)")
            #expect(reply.parameters["parameter"] == .string("requestId"))
        }
    }

    @Test func refusedStartsDoNotUseUpGeneratedIDs() throws {
        let daemon = try DaemonHarness(regions: nil)
        var start = armedStart
        let first = try daemon.call("io.jointops.Operations.Start", start).operation?["id"]?.stringValue ?? ""
        #expect(first.hasPrefix("OP-") && first.hasSuffix("-0001"), "\(first)")
        var bad = start
        bad["attributes"] = .object(["incident_type": .string("armed_robbery"), "priority": .string("P9")])
        for _ in 0..<3 { #expect(try daemon.call("io.jointops.Operations.Start", bad).error == "io.jointops.Operations.CommandRefused") }
        start["attributes"] = armedStart["attributes"]
        let second = try daemon.call("io.jointops.Operations.Start", start).operation?["id"]?.stringValue ?? ""
        #expect(second == String(first.dropLast(4)) + "0002", "\(second)")
    }

    @Test func filtersWithUnknownValuesAreRefusedWithASuggestion() throws {
        let daemon = try DaemonHarness()
        try daemon.startArmed("OP-F")
        let cases: [(String, [String: JSONValue], String, String)] = [
            ("List", ["region": .string("hexii")], "region", "hexi"),
            ("List", ["phase": .string("repoted")], "phase", "did you mean 'reported'"),
            ("List", ["branch": .string("swatt")], "branch", "did you mean 'swat'"),
            ("List", ["priority": .string("P9")], "priority", "P1, P2, P3 or P4"),
            ("Overdue", ["region": .string("nowhere")], "region", "nowhere"),
            ("Overdue", ["branch": .string("swatt")], "branch", "did you mean 'swat'"),
            ("Watch", ["branch": .string("swatt")], "branch", "did you mean 'swat'"),
            ("Watch", ["region": .string("hexii")], "region", "hexi"),
        ]
        for (method, filters, parameter, hint) in cases {
            let reply =
                method == "Watch" ? try daemon.watch(filters).receive() : try daemon.call("io.jointops.Operations.\(method)", filters)
            #expect(reply.error == "org.varlink.service.InvalidParameter", "\(method) \(filters): \(reply)")
            #expect(reply.parameters["parameter"] == .string(parameter))
            #expect(reply.parameters["description"]?.stringValue?.contains(hint) == true, "\(method) \(filters): \(reply)")
        }
        for filters: [String: JSONValue] in [["workflow": .string("armed-reponse")], ["branch": .string("swatt")]] {
            #expect(try daemon.evaluate(filters).error == "org.varlink.service.InvalidParameter", "\(filters)")
        }
        #expect(try daemon.evaluate(["workflow": .string("armed-response")]).error == nil)
        // A lower-case priority means the same priority.
        let p1 = items(try daemon.call("io.jointops.Operations.List", ["priority": .string("p1")]).parameters["operations"])
        #expect(p1.map { $0["id"] } == [.string("OP-F")])
    }

    @Test func aRegionFilterTakesInItsSubRegions() throws {
        let daemon = try DaemonHarness()
        var station = armedStart
        station["id"] = .string("OP-STATION")
        station["region"] = .string("hexi-liulin")
        #expect(try daemon.call("io.jointops.Operations.Start", station).error == nil)
        func listed(_ region: String) throws -> [JSONValue?] {
            items(try daemon.call("io.jointops.Operations.List", ["region": .string(region)]).parameters["operations"]).map { $0["id"] }
        }
        #expect(try listed("hexi-liulin") == [.string("OP-STATION")])
        #expect(try listed("hexi") == [.string("OP-STATION")], "a district covers its stations")
        #expect(try listed("tianjin") == [.string("OP-STATION")], "the city covers everything")
        #expect(try listed("heping") == [])
    }

    @Test func unitCommandsThatWouldQuietlyWeakenABranchAreRefused() throws {
        let daemon = try DaemonHarness()
        #expect(try UnitsTests.dispatch(daemon, "OP-U1", region: "hexi-liulin").error == nil)
        // A typo in the count would take every SWAT team in the city.
        let many = try daemon.call(
            "io.jointops.Operations.Reinforce", ["id": .string("OP-U1"), "branch": .string("swat"), "units": .int(999)])
        #expect(many.error == "org.varlink.service.InvalidParameter", "\(many)")
        #expect(many.parameters["parameter"] == .string("units"))
        #expect(many.parameters["description"]?.stringValue?.contains("swat units in all") == true, "\(many)")
        #expect(
            UnitsTests.units(
                UnitsTests.branch(try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-U1")]), "swat#2")?["assignedUnits"])
                == [])
        let overNamed = try daemon.call(
            "io.jointops.Operations.Reinforce",
            [
                "id": .string("OP-U1"), "branch": .string("swat"), "units": .int(1),
                "unitIds": .array([.string("hx-swat-05"), .string("hx-swat-06")]), "unitsReason": .string("closest"),
            ])
        #expect(overNamed.parameters["parameter"] == .string("unitIds"), "\(overNamed)")
        // A typo in the audience would alert nobody.
        let nobody = try daemon.call(
            "io.jointops.Operations.Escalate",
            ["id": .string("OP-U1"), "reason": .string("no answer"), "audience": .string("dutycommander")])
        #expect(nobody.parameters["parameter"] == .string("audience"), "\(nobody)")
        #expect(nobody.parameters["description"]?.stringValue?.contains("did you mean 'duty_commander'") == true, "\(nobody)")
        #expect(
            try daemon.call(
                "io.jointops.Operations.Escalate",
                ["id": .string("OP-U1"), "reason": .string("no answer"), "audience": .string("bureau_leadership")]
            ).error == nil)
        // A unit on a live branch is not set available without a reason.
        let pulled = try daemon.call("io.jointops.Units.SetStatus", ["id": .string("hx-liulin-po-1"), "status": .string("available")])
        #expect(pulled.parameters["parameter"] == .string("reason"), "\(pulled)")
        #expect(try UnitsTests.unit(daemon, "hx-liulin-po-1")?["operation"] == .string("OP-U1"), "nothing changed")
        // A SWAT team cannot be preempted for a public-order branch (Assign refuses the same).
        #expect(try UnitsTests.dispatch(daemon, "OP-U2", region: "heping").error == nil)
        let wrongKind = try daemon.call(
            "io.jointops.Units.Preempt",
            [
                "id": .string("hx-swat-01"), "operation": .string("OP-U2"), "instance": .string("public_order"),
                "reason": .string("kind mismatch"),
            ])
        #expect(wrongKind.parameters["reason"]?.stringValue?.contains("serves swat, not public_order") == true, "\(wrongKind)")
        #expect(try UnitsTests.unit(daemon, "hx-swat-01")?["operation"] == .string("OP-U1"))
    }

    @Test func ambiguousOrUnknownChoicesAreRefusedWhereverTheyAppear() throws {
        let daemon = try DaemonHarness(regions: nil)
        try daemon.startArmed("OP-C")
        // A rating's channel and category are checked whatever the score (they used to be
        // checked only for a dissatisfied one, and then named the follow-up's attributes).
        let rating: [String: JSONValue] = [
            "id": .string("OP-NONE"), "before": .int(4), "during": .int(4), "after": .int(4), "score": .int(4),
        ]
        for (parameter, value) in [("category", "bogus"), ("channel", "carrier_pigeon")] {
            var call = rating
            call[parameter] = .string(value)
            let reply = try daemon.call("io.jointops.Operations.Rate", call)
            #expect(reply.parameters["parameter"] == .string(parameter), "\(reply)")
            #expect(reply.parameters["description"]?.stringValue?.contains("'\(value)' is not a \(parameter)") == true, "\(reply)")
        }
        var known = rating
        known["category"] = .string("attitude")
        #expect(try daemon.call("io.jointops.Operations.Rate", known).error == "io.jointops.Operations.OperationNotFound")
        // An escalation named twice, possibly two different ones.
        let both = try daemon.call(
            "io.jointops.Operations.Acknowledge", ["id": .string("OP-C"), "escalation": .int(1), "deadline": .string("assessment")])
        #expect(both.parameters["parameter"] == .string("deadline"), "\(both)")
        #expect(both.parameters["description"]?.stringValue?.contains("not both") == true)
        // Escalations are numbered from 1: 0 or less is a parameter to correct, not a refusal.
        for number in [0, -1] {
            let none = try daemon.call("io.jointops.Operations.Acknowledge", ["id": .string("OP-C"), "escalation": .int(Int64(number))])
            #expect(none.error == "org.varlink.service.InvalidParameter", "\(none)")
            #expect(none.parameters["parameter"] == .string("escalation"), "\(none)")
            #expect(none.parameters["description"] == .string("escalations are numbered from 1 (as Show lists them), not \(number)"))
        }
    }

    @Test func aRefusalThatEndsInASuggestionGetsNoStrayFullStop() throws {
        let daemon = try DaemonHarness(regions: nil)
        try daemon.startArmed("OP-P")
        let typo = try CommandLineOutputTests.ctl(["fire", "OP-P", "asess"], socket: daemon.socket)
        #expect(typo.status == 1)
        #expect(typo.stderr.hasPrefix("refused: event 'asess' is not accepted in phase 'reported'"), "\(typo.stderr)")
        #expect(typo.stderr.contains("did you mean 'assess'?\n  phase: reported\n"), "\(typo.stderr)")
    }

    @Test func anEmptyFilteredListSaysNoneMatchesNotThatNothingIsOpen() throws {
        let daemon = try DaemonHarness()
        try daemon.startArmed("OP-L")
        let none = try CommandLineOutputTests.ctl(["list", "--region", "heping", "--overdue"], socket: daemon.socket)
        #expect(none.status == 0)
        #expect(none.stdout == "no operations open match --overdue --region heping (--all includes closed and cancelled ones)\n")
        let ended = try CommandLineOutputTests.ctl(["list", "--all", "--phase", "closed"], socket: daemon.socket)
        #expect(ended.stdout == "no operations match --phase closed\n")
    }

    /// A socket whose every connection is closed at once, as by a daemon killed mid-answer.
    final class HangingUpSocket: @unchecked Sendable {
        let path: String
        private let descriptor: Int32

        init(_ path: String) throws {
            self.path = path
            descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            let bound = UnixSocketAddress(path: path)?.withSockaddr { bind(descriptor, $0, $1) } ?? -1
            guard bound == 0, listen(descriptor, 8) == 0 else { throw HarnessError("cannot listen on \(path)") }
            let listening = descriptor
            Thread.detachNewThread {
                while true {
                    let connection = accept(listening, nil, nil)
                    guard connection >= 0 else { return }
                    var byte: UInt8 = 0
                    _ = read(connection, &byte, 1)  // the call has begun to arrive: hang up on it
                    close(connection)
                }
            }
        }

        deinit {
            shutdown(descriptor, Int32(SHUT_RDWR))
            close(descriptor)
            unlink(path)
        }
    }

    @Test func aLostAnswerSaysTheCommandMayHaveBeenAppliedAndHowToRepeatItSafely() throws {
        let daemon = try DaemonHarness(regions: nil)
        try daemon.startArmed("OP-LOST")
        let hangingUp = try HangingUpSocket(daemon.folder.appendingPathComponent("gone.sock").path)
        let lost = try CommandLineOutputTests.ctl(["note", "OP-LOST", "perimeter holding"], socket: hangingUp.path)
        #expect(lost.status == 69)
        #expect(lost.stderr.contains("whether the command was applied is not known"), "\(lost.stderr)")
        let id = try #require(lost.stderr.split(separator: "JOINTOPS_REQUEST_ID=").last?.split(separator: " ").first.map(String.init))
        #expect(id.count == 36, "a UUID: \(id)")
        // Run twice with that id against the real daemon: applied once.
        for _ in 0..<2 {
            let again = try CommandLineOutputTests.ctl(
                ["note", "OP-LOST", "perimeter holding"], socket: daemon.socket, environment: ["JOINTOPS_REQUEST_ID": id])
            #expect(again.status == 0, "\(again.stderr)")
        }
        let notes = items(try daemon.call("io.jointops.Operations.History", ["id": .string("OP-LOST")]).parameters["events"])
            .filter { $0["kind"] == .string("noted") }
        #expect(notes.count == 1)
    }

    @Test func aPausedDeadlineShowsWhatIsLeftNotAPastDueTime() throws {
        let daemon = try DaemonHarness(regions: nil)
        let start = try daemon.call(
            "io.jointops.Operations.Start",
            [
                "workflow": .string("telecom-fraud"), "region": .string("hexi"), "id": .string("OP-HOLD"),
                "attributes": .object([
                    "case_class": .string("criminal"), "fraud_type": .string("investment_scam"), "amount_yuan": .string("50000"),
                ]),
            ])
        #expect(start.error == nil, "\(start)")
        // telecom-fraud pauses its clock on hold: the hour to accept the case waits.
        let held = try daemon.call("io.jointops.Operations.Hold", ["id": .string("OP-HOLD"), "reason": .string("victim unreachable")])
        let acceptance = items(held.operation?["timers"]).first { $0["name"] == .string("acceptance") }
        #expect(acceptance?["paused"] == .bool(true), "\(held)")
        let left = acceptance?["remaining"]?.intValue ?? 0
        #expect(left > 3_500_000 && left <= 3_600_000, "about an hour left: \(left) ms")
        let shown = try CommandLineOutputTests.ctl(["show", "OP-HOLD"], socket: daemon.socket)
        #expect(shown.stdout.contains("deadline acceptance  operation  paused — 1h00m left"), "\(shown.stdout)")
        // Resumed, the timer has a due time again.
        let resumed = try daemon.call("io.jointops.Operations.Resume", ["id": .string("OP-HOLD")])
        #expect(items(resumed.operation?["timers"]).allSatisfy { $0["paused"] == nil })
    }
}
