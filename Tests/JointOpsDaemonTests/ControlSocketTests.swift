import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// End to end over the real socket: the daemon started as a process, spoken to in Varlink.
@Suite(.serialized) struct ControlSocketTests {
    @Test func anOperationRunsFromStartToCloseOverTheSocket() throws {
        let daemon = try DaemonHarness()
        let started = try daemon.startArmed("OP-E2E-1")
        #expect(started.error == nil, "\(started)")
        #expect(started.operation?["phase"] == .string("reported"))
        for (method, parameters) in [
            ("Fire", ["event": JSONValue.string("assess")]), ("Fire", ["event": .string("dispatch")]),
            ("Advance", ["branch": .string("swat"), "step": .string("on_scene")]),
        ] {
            var parameters = parameters
            parameters["id"] = .string("OP-E2E-1")
            let reply = try daemon.call("io.jointops.Operations.\(method)", parameters)
            #expect(reply.error == nil, "\(method): \(reply)")
        }
        let shown = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-E2E-1")])
        #expect(shown.operation?["phase"] == .string("responding"))
        let swat = items(shown.operation?["branches"]).first { $0["instance"] == .string("swat") }
        #expect(swat?["step"] == .string("on_scene"))
        let history = try daemon.call("io.jointops.Operations.History", ["id": .string("OP-E2E-1")])
        let events = items(history.parameters["events"])
        #expect(events.count == 11, "started, 3 phases, 3 dispatches, 3 unit assignments, 1 step")
        #expect(events.last?["description"] == .string("swat → on_scene"))
        #expect(events.first?["actor"]?["role"] == .string("admin"), "root is admin")
        #expect(events.first?["actor"]?["uid"] == .int(Int64(getuid())))
        let report = try daemon.call("io.jointops.Operations.Report", ["id": .string("OP-E2E-1")])
        let runs = items(report.parameters["deadlines"])
        #expect(runs.contains { $0["deadline"] == .string("assessment") && $0["outcome"] == .string("met") })
        #expect(
            runs.contains {
                $0["deadline"] == .string("swat_on_scene") && $0["outcome"] == .string("met") && $0["instance"] == .string("swat")
            })
        #expect(items(report.parameters["events"]).count == 11)
        let verify = try daemon.call("io.jointops.Admin.Verify")
        #expect(verify.parameters["intact"] == .bool(true))
        #expect(daemon.stop() == 0)
        #expect(!FileManager.default.fileExists(atPath: daemon.socket), "the socket is removed on shutdown")
    }

    @Test func aRefusedCommandSaysWhyAndWhatIsAllowed() throws {
        let daemon = try DaemonHarness()
        try daemon.startArmed("OP-R")
        let reply = try daemon.call("io.jointops.Operations.Close", ["id": .string("OP-R"), "disposition": .string("resolved")])
        #expect(reply.error == "io.jointops.Operations.CommandRefused")
        #expect(reply.parameters["code"] == .string("not_allowed"))
        #expect(reply.parameters["phase"] == .string("reported"))
        #expect(reply.parameters["reason"]?.stringValue?.contains("cannot close in phase 'reported'") == true)
        #expect(items(reply.parameters["allowed"]).contains(.string("fire assess")))
    }

    @Test func aRetryWithTheSameRequestIDAfterADroppedConnectionAppliesNothingAgain() throws {
        let daemon = try DaemonHarness()
        try daemon.startArmed("OP-IDEM")
        let command: [String: JSONValue] = ["id": .string("OP-IDEM"), "text": .string("first report"), "requestId": .string("req-42")]
        // Send, then hang up before the reply arrives.
        do {
            let client = try daemon.client()
            try client.send(VarlinkCall(method: "io.jointops.Operations.Note", parameters: command))
        }
        usleep(200_000)
        let retry = try daemon.call("io.jointops.Operations.Note", command)
        #expect(retry.error == nil, "\(retry)")
        let again = try daemon.call("io.jointops.Operations.Note", command)
        #expect(again.operation == retry.operation, "a retry returns the first result")
        let notes = items(try daemon.call("io.jointops.Operations.History", ["id": .string("OP-IDEM")]).parameters["events"])
            .filter { $0["kind"] == .string("noted") }
        #expect(notes.count == 1)
        // The same id for a different command is a mistake, said so.
        let misuse = try daemon.call(
            "io.jointops.Operations.Fire", ["id": .string("OP-IDEM"), "event": .string("assess"), "requestId": .string("req-42")])
        #expect(misuse.error == "org.varlink.service.InvalidParameter")
        #expect(misuse.parameters["parameter"] == .string("requestId"))
    }

    @Test func everyBadInputGetsAnErrorAndChangesNothing() throws {
        let daemon = try DaemonHarness(configuration: "max_message_bytes: 4096\nstalled_message_ms: 300\nmax_connections: 8\n")
        try daemon.startArmed("OP-BAD")
        let eventsBefore = try daemon.call("io.jointops.Admin.Verify").parameters["eventsChecked"]
        var random = SystemRandomNumberGenerator()
        let malformed: [String] = [
            "not json", "{", "[]", "null", "42", "\"text\"", "{\"method\": 7}", "{\"parameters\": {}}", "{\"method\": \"\"}",
            "{\"method\": \"io.jointops.Operations.Show\"}", "{\"method\": \"io.jointops.Operations.Show\", \"parameters\": {\"id\": 5}}",
            "{\"method\": \"io.jointops.Operations.Show\", \"parameters\": {\"id\": \"OP-BAD\", \"extra\": true}}",
            "{\"method\": \"io.jointops.Operations.Fire\", \"parameters\": {\"id\": \"OP-BAD\"}}",
            "{\"method\": \"io.jointops.Operations.Fire\", \"parameters\": {\"id\": \"OP-BAD\", \"event\": [1]}}",
            "{\"method\": \"io.jointops.Operations.Advance\", \"parameters\": {\"id\": \"OP-BAD\", \"branch\": \"swat\", \"step\": \"x\", \"outcome\": \"y\"}}",
            "{\"method\": \"io.jointops.Operations.Nope\"}", "{\"method\": \"com.example.Other.Call\"}",
            "{\"method\": \"io.jointops.Operations.Start\", \"parameters\": 3}",
            "{\"method\": \"io.jointops.Operations.Start\", \"parameters\": {\"workflow\": \"armed-response\", \"region\": \"\"}}",
            "{\"method\": \"io.jointops.Operations.Start\", \"parameters\": {\"workflow\": \"nope\", \"region\": \"x\"}}",
            "{\"method\": \"io.jointops.Operations.List\", \"more\": \"yes\"}", "{\"method\": \"io.jointops.Operations.Watch\"}",
            "\u{FF}\u{FE}garbage", "{\"method\": \"io.jointops.Operations.Note\", \"parameters\": {\"id\": \"OP-BAD\", \"text\": 1.5}}",
        ]
        var answered = 0
        let client = try daemon.client()
        for index in 0..<1200 {
            var message = malformed[index % malformed.count]
            if index % 50 == 49 {
                // Random bytes, NULs filtered out so it stays one message.
                message = String(
                    decoding: (0..<Int.random(in: 1...300, using: &random)).map { _ in UInt8.random(in: 1...255, using: &random) },
                    as: UTF8.self)
            }
            try client.sendRaw(Array(message.utf8) + [0])
            let reply = try client.receive()
            #expect(reply.error != nil, "\(message) was accepted: \(reply)")
            answered += 1
        }
        #expect(answered == 1200)
        // An oversized message closes the connection with an error.
        let big = try daemon.client()
        try big.sendRaw(Array(repeating: UInt8(ascii: "a"), count: 10_000))
        #expect(try big.receive().parameters["parameter"] == .string("(message)"))
        // Half a message, then the client goes away.
        do { try daemon.client().sendRaw(Array("{\"method\": \"io.jointops.Ope".utf8)) }
        // Half a message, then the client stalls: the daemon closes the connection.
        let stalled = try daemon.client()
        try stalled.sendRaw(Array("{\"method\": \"io.jointops.Operations.Li".utf8))
        #expect(throws: VarlinkClient.Failure.self) { try stalled.receive() }
        // A flood of connections beyond the maximum: the extra ones are told why and closed,
        // the daemon stays up.
        do {
            let flood = try (0..<20).map { _ in try daemon.client() }
            var refused = 0
            for connection in flood {
                let reply = try connection.call("io.jointops.Operations.Workflows")
                if reply.error == "io.jointops.Operations.TooManyConnections" { refused += 1 }
            }
            #expect(refused >= 20 - 8, "connections beyond max_connections are refused with TooManyConnections")
        }
        withExtendedLifetime(client) {}
        usleep(300_000)
        // The daemon still answers, and nothing changed.
        let shown = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-BAD")])
        #expect(shown.operation?["phase"] == .string("reported"))
        let after = try daemon.call("io.jointops.Admin.Verify")
        #expect(after.parameters["intact"] == .bool(true))
        #expect(after.parameters["eventsChecked"] == eventsBefore)
    }

    @Test func theServiceDescribesItselfToAnyVarlinkClient() throws {
        let daemon = try DaemonHarness()
        let info = try daemon.call("org.varlink.service.GetInfo")
        #expect(
            items(info.parameters["interfaces"]) == [
                .string("org.varlink.service"), .string("io.jointops.Operations"), .string("io.jointops.Admin"),
                .string("io.jointops.Units"),
            ])
        let description = try daemon.call("org.varlink.service.GetInterfaceDescription", ["interface": .string("io.jointops.Operations")])
        let committed = try String(
            contentsOf: DaemonHarness.root.appendingPathComponent("Sources/JointOpsProtocol/Interfaces/io.jointops.Operations.varlink"),
            encoding: .utf8)
        #expect(
            description.parameters["description"]?.stringValue == committed.trimmingCharacters(in: .newlines),
            "run scripts/generate-interfaces.py after editing a .varlink file")
        #expect(
            try daemon.call("org.varlink.service.GetInterfaceDescription", ["interface": .string("io.nope")]).error
                == "org.varlink.service.InterfaceNotFound")
    }

    @Test func aWatcherGetsTheStateThenEveryChange() throws {
        let daemon = try DaemonHarness()
        try daemon.startArmed("OP-W")
        let watcher = try daemon.watch(["operation": .string("OP-W")])
        let first = try watcher.receive()
        #expect(first.continues)
        #expect(first.operation?["id"] == .string("OP-W"))
        let current = try watcher.receive()
        #expect(current.parameters == ["current": .bool(true)], "the initial state ends with a 'current' marker")
        _ = try daemon.call("io.jointops.Operations.Fire", ["id": .string("OP-W"), "event": .string("assess")])
        let event = try watcher.receive()
        #expect(event.parameters["event"]?["description"] == .string("phase → assessing (event assess)"))
        let state = try watcher.receive()
        #expect(state.operation?["phase"] == .string("assessing"))
        // The watched event is the logged one: the same place in the log and in the operation.
        let logged = items(try daemon.call("io.jointops.Operations.History", ["id": .string("OP-W")]).parameters["events"]).last
        #expect(logged?["kind"] == event.parameters["event"]?["kind"])
        #expect(logged?["sequence"] == event.parameters["event"]?["sequence"])
        #expect(logged?["operationSequence"] == event.parameters["event"]?["operationSequence"])
        #expect(event.parameters["event"]?["sequence"] != .int(0))
    }

    @Test func aWatchOfOneOperationEndsWhenTheOperationEnds() throws {
        let daemon = try DaemonHarness()
        try daemon.startArmed("OP-END")
        let watcher = try daemon.watch(["operation": .string("OP-END")])
        _ = try watcher.receive()  // OP-END as it stands
        _ = try watcher.receive()  // current
        _ = try daemon.call("io.jointops.Operations.Cancel", ["id": .string("OP-END"), "reason": .string("false_alarm")])
        var replies: [VarlinkReply] = []
        while replies.last?.continues ?? true { replies.append(try watcher.receive()) }
        #expect(replies.last?.parameters == ["ended": .bool(true)])
        #expect(replies.last?.error == nil)
        #expect(replies.dropLast().last?.operation?["phase"] == .string("cancelled"), "the final state comes just before")
        // The connection stays usable for other calls.
        #expect(try watcher.call("io.jointops.Operations.Show", ["id": .string("OP-END")]).error == nil)
    }

    @Test func aWatchThatCouldNeverMatchIsRefusedInsteadOfWaitingInSilence() throws {
        let daemon = try DaemonHarness()
        try daemon.startArmed("OP-ENDED")
        _ = try daemon.call("io.jointops.Operations.Cancel", ["id": .string("OP-ENDED"), "reason": .string("false_alarm")])
        func watch(_ parameters: [String: JSONValue]) throws -> VarlinkReply { try daemon.watch(parameters).receive() }
        let unknown = try watch(["operation": .string("OP-NOPE")])
        #expect(unknown.error == "io.jointops.Operations.OperationNotFound")
        let ended = try watch(["operation": .string("OP-ENDED")])
        #expect(ended.error == "io.jointops.Operations.CommandRefused")
        #expect(ended.parameters["code"] == .string("operation_ended"))
        #expect(ended.parameters["reason"]?.stringValue?.contains("jointopsctl history OP-ENDED") == true)
        // A command on it says how it ended and what can still be done (not only that it ended).
        let note = try daemon.call("io.jointops.Operations.Note", ["id": .string("OP-ENDED"), "text": .string("late word")])
        #expect(
            note.parameters["reason"]
                == .string(
                    "operation OP-ENDED is cancelled (false_alarm); all that remains is to read its report (jointopsctl report operation OP-ENDED)"
                ))
        let branch = try watch(["branch": .string("swatt")])
        #expect(branch.error == "org.varlink.service.InvalidParameter")
        #expect(branch.parameters["parameter"] == .string("branch"))
        #expect(branch.parameters["description"]?.stringValue?.contains("did you mean 'swat'?") == true)
        let region = try watch(["region": .string("nowhere")])
        #expect(region.error == "org.varlink.service.InvalidParameter")
        #expect(region.parameters["parameter"] == .string("region"))
        let fine = try watch(["region": .string("hexi"), "branch": .string("swat")])
        #expect(fine.parameters["current"] == .bool(true), "a filter that can match is a watch, even with nothing open yet")
    }

    @Test func changesWithinOneWatchIntervalShareAWriteWithEveryEventAndEachOperationOnce() throws {
        let daemon = try DaemonHarness(configuration: "watch_interval_ms: 1000\n")
        for id in ["OP-A", "OP-B"] {
            try daemon.startArmed(id)
        }
        let watcher = try daemon.watch()
        for _ in 0..<3 { _ = try watcher.receive() }  // OP-A, OP-B, current
        // The first change after a quiet spell goes out at once; the next ones wait for the interval.
        _ = try daemon.call("io.jointops.Operations.Note", ["id": .string("OP-A"), "text": .string("first")])
        #expect(try watcher.receive().parameters["event"]?["description"] == .string("note: first"))
        #expect(try watcher.receive().operation?["id"] == .string("OP-A"))
        for (id, text) in [("OP-A", "a1"), ("OP-B", "b1"), ("OP-A", "a2")] {
            _ = try daemon.call("io.jointops.Operations.Note", ["id": .string(id), "text": .string(text)])
        }
        var replies: [String] = []
        for _ in 0..<5 {
            let reply = try watcher.receive()
            if let event = reply.parameters["event"] { replies.append(event["description"]?.stringValue ?? "?") }
            if let operation = reply.operation { replies.append("view \(operation["id"]?.stringValue ?? "?")") }
        }
        // Every event in order; OP-B's view after its change, OP-A's once, after its last.
        #expect(replies == ["note: a1", "note: b1", "view OP-B", "note: a2", "view OP-A"])
    }

    @Test func stoppingClosesIdleClientsAndWatchersInsteadOfWaitingForThem() throws {
        let daemon = try DaemonHarness()
        try daemon.startArmed("OP-STOP")
        let idle = try daemon.client()
        #expect(try idle.call("io.jointops.Operations.Show", ["id": .string("OP-STOP")]).error == nil)
        let watcher = try daemon.watch()
        #expect(try watcher.receive().operation?["id"] == .string("OP-STOP"))
        #expect(try watcher.receive().parameters["current"] == .bool(true))
        #expect(daemon.stop(within: 5) == 0, "jointopsd did not stop within 5 s: it waited for its clients to go away")
        // Both were closed by the daemon: the watcher's stream ended, the idle connection reads end-of-file.
        var ended = false
        while let reply = try? watcher.receive() {
            if !reply.continues { break }
        }
        do { _ = try idle.receive() } catch { ended = true }
        #expect(ended)
    }

    @Test func aWatcherThatHangsUpOnAQuietWatchFreesItsConnection() throws {
        // Before, the daemon noticed a watcher had gone only when it next wrote to it: an
        // operator's Ctrl-C on a watch of a quiet operation held a connection until that
        // operation changed, and enough of them locked everyone out.
        let daemon = try DaemonHarness(configuration: "max_connections: 3\n")
        try daemon.startArmed("OP-QUIET")
        for round in 0..<6 {
            var watching = false
            let deadline = Date().addingTimeInterval(5)
            while !watching, Date() < deadline {
                // (A connection refused for the limit gets TooManyConnections instead of OP-QUIET.)
                if let watcher = try? daemon.watch(["operation": .string("OP-QUIET")]),
                    (try? watcher.receive())?.operation?["id"] == .string("OP-QUIET"),
                    (try? watcher.receive())?.parameters["current"] == .bool(true)
                {
                    watching = true  // and the watcher hangs up as it goes out of scope
                } else {
                    usleep(50_000)
                }
            }
            #expect(watching, "watch \(round + 1) was refused for 5 s: the watchers that hung up still hold their connections")
        }
        // The last one's connection, too, is given back (at once, but not before this call could race it).
        var shown = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-QUIET")])
        for _ in 0..<100 where shown.error == "io.jointops.Operations.TooManyConnections" {
            usleep(50_000)
            shown = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-QUIET")])
        }
        #expect(shown.error == nil, "\(shown)")
    }

    /// Reproducer: a connection that never sent a byte was never timed out (the stall limit
    /// started with the first byte), so silent connections held their slots for ever.
    @Test func aConnectionThatSendsNothingIsClosedAfterTheStallLimit() throws {
        let daemon = try DaemonHarness(configuration: "stalled_message_ms: 300\n")
        let silent = try daemon.client()
        let clock = ContinuousClock()
        let started = clock.now
        #expect(throws: (any Error).self) { try silent.receive() }
        #expect(clock.now - started < .seconds(5), "closed by the daemon, not by the client's own 15 s timeout")
        #expect(try daemon.call("io.jointops.Operations.List").error == nil, "the daemon goes on")
    }

    @Test func aWatcherThatStopsReadingIsClosedAfterTheStallLimit() throws {
        // `jointopsctl watch | less`, left on a screen: the socket fills, the daemon's write
        // to it waits, and before this the connection stayed open for as long as the client did.
        let daemon = try DaemonHarness(configuration: "stalled_message_ms: 600\n")
        try daemon.startArmed("OP-STUCK")
        let watcher = try daemon.watch()
        let commands = try daemon.client()
        let text = String(repeating: "x", count: 1000)
        let notes = 1000
        for _ in 0..<notes {
            #expect(try commands.call("io.jointops.Operations.Note", ["id": .string("OP-STUCK"), "text": .string(text)]).error == nil)
        }
        var logged = false
        for _ in 0..<100 where !logged {
            logged = daemon.log.contains("stopped reading")
            if !logged { usleep(50_000) }
        }
        #expect(logged, "no watcher was closed for not reading: \(daemon.log)")
        // What was in the socket can still be read; then the connection ends, without the rest.
        var events = 0
        while let reply = try? watcher.receive() {
            if reply.parameters["event"] != nil { events += 1 }
        }
        #expect(events < notes, "the watcher got all \(notes) notes, so it was never closed")
        // Commands went on meanwhile, and the daemon is fine.
        #expect(try commands.call("io.jointops.Admin.Verify").parameters["intact"] == .bool(true))
    }

    /// Reproducer: a client that sent calls and never read the replies kept its connection
    /// busy for as long as it stayed connected, and SIGTERM waited for it for ever.
    @Test func aClientThatNeverReadsItsRepliesIsClosedAndDoesNotHoldUpAStop() throws {
        let daemon = try DaemonHarness(configuration: "stalled_message_ms: 2000\n")
        for number in 0..<20 { try daemon.startArmed("OP-BIG-\(number)") }
        let greedy = try daemon.client()
        // Replies of about 40 KB each, never read: the socket fills and the daemon's write waits.
        for _ in 0..<300 { try greedy.send(VarlinkCall(method: "io.jointops.Operations.List", parameters: [:])) }
        usleep(300_000)
        // SIGTERM while the write waits: the stop waits for the call in flight, until the
        // sweep closes the client that does not read.
        withExtendedLifetime(greedy) {  // the client stays connected, and still reads nothing
            #expect(daemon.stop(within: 10) == 0, "jointopsd stops although a client never read its replies")
        }
        #expect(daemon.log.contains("stopped reading"), "the client that does not read was closed: \(daemon.log)")
    }

    @Test func aWatcherThatCannotKeepUpIsDisconnectedAndNeverSlowsCommands() throws {
        let daemon = try DaemonHarness(configuration: "watch_buffer: 8\n")
        try daemon.startArmed("OP-SLOW")
        let watcher = try daemon.watch()
        let commands = try daemon.client()
        for index in 0..<400 {
            let reply = try commands.call("io.jointops.Operations.Note", ["id": .string("OP-SLOW"), "text": .string("note \(index)")])
            #expect(reply.error == nil)
        }
        var last: VarlinkReply?
        while let reply = try? watcher.receive() {
            last = reply
            if !reply.continues { break }
        }
        #expect(last?.error == "io.jointops.Operations.WatcherTooSlow", "\(String(describing: last))")
    }
}

func items(_ value: JSONValue?) -> [JSONValue] {
    if case .array(let items)? = value { return items }
    return []
}
