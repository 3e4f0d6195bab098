import JointOpsCore
import JointOpsProtocol
import Testing

@testable import JointOpsDaemon

/// The operation and event views are written straight to canonical text; this checks, on the bytes the
/// daemon sends, that every reply is canonical (sorted keys, the form JSONValue writes) and
/// says what the operation's state says, in each state a busy operation passes through.
@Suite struct ViewsTests {
    @Test func theOperationViewIsCanonicalInEveryStateItPassesThrough() throws {
        let daemon = try DaemonHarness()
        var start = armedStart
        start["id"] = .string("OP-VIEW")
        let client = try daemon.client()
        let calls: [(String, [String: JSONValue])] = [
            ("Start", start), ("Fire", ["event": .string("assess")]), ("Fire", ["event": .string("dispatch")]),
            ("Advance", ["branch": .string("swat"), "step": .string("en_route")]),
            ("Note", ["text": .string("shots reported, \"two\" suspects\n")]), ("Escalate", ["reason": .string("need helicopter")]),
            ("Hold", ["reason": .string("awaiting negotiator")]), ("History", [:]), ("Show", [:]),
        ]
        var last: JSONValue?
        for (method, parameters) in calls {
            var parameters = parameters
            if method != "Start" { parameters["id"] = .string("OP-VIEW") }
            try client.send(VarlinkCall(method: "io.jointops.Operations.\(method)", parameters: parameters))
            let text = try client.receiveText()
            let reply = try JSONParser.parse(text)
            #expect(reply["error"] == nil, "\(method): \(text)")
            #expect(reply.canonical == text, "\(method)")
            if method == "History" { #expect(reply["parameters"]?["events"]?.arrayValue?.count ?? 0 > 8) }
            last = reply["parameters"]?["operation"]
        }
        let view = try #require(last)
        #expect(view["id"] == .string("OP-VIEW"))
        #expect(view["heldReason"] == .string("awaiting negotiator"))
        #expect(view["attributes"]?["priority"] == .string("P1"))
        #expect(view["escalations"]?.arrayValue?.first?["reason"] == .string("need helicopter"))
        let swat = view["branches"]?.arrayValue?.first { $0["branch"] == .string("swat") }
        #expect(swat?["step"] == .string("en_route"))
        #expect(swat?["steps"]?.arrayValue?.compactMap { $0["step"]?.stringValue }.last == "en_route")
        #expect(view["timers"]?.arrayValue?.isEmpty == false)
    }

    /// Reproducer: the board showed "operation" as the branch of a late step once the step's
    /// ladder had run out, and could name the wrong instance of a reinforced branch: it
    /// guessed the instance from the timers. An escalation now says whose deadline it was.
    @Test func anEscalationNamesTheBranchInstanceWhoseDeadlineWasMissed() throws {
        var (state, _) = try WatchHubTests.started("OP-ESC")
        let at = Instant(milliseconds: 1_795_910_400_000)
        _ = try state.handle(.fire(event: "assess"), at: at + 60_000, actor: nil)
        _ = try state.handle(.fire(event: "dispatch"), at: at + 120_000, actor: nil)
        _ = try state.handle(.reinforce(branch: "public_order", units: nil, region: nil), at: at + 180_000, actor: nil)
        let perimeter = try #require(WatchHubTests.workflow.deadline(named: "perimeter"))
        let second = try #require(state.branches.firstIndex { $0.name == "public_order#2" })
        let key = try #require(state.timers.first { $0.key.index == perimeter && $0.key.instance == second }?.key)
        _ = try state.handle(.timerFired(key), at: at + 20 * 60_000, actor: nil)
        _ = try state.handle(.escalate(reason: "crowd", to: nil), at: at + 21 * 60_000, actor: nil)
        let view = try JSONParser.parse(Views.operation(state).canonical)
        let escalations = view["escalations"]?.arrayValue ?? []
        let missed = escalations.filter { $0["deadline"] == .string("perimeter") }
        #expect(missed.map { $0["instance"] }.contains(.string("public_order#2")), "\(escalations)")
        #expect(escalations.last?["instance"] == .null, "one raised by hand belongs to no branch")
    }
}
