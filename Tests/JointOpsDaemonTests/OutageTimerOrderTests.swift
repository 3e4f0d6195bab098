import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// After an outage every armed timer is past due at once; they still fire in due order,
/// the ladder rungs that a missed deadline arms included.
@Suite(.serialized) struct OutageTimerOrderTests {
    static let workflow = """
        workflow: outage-order
        version: 1
        title: Timers across an outage
        phases:
          reported:
            initial: true
            on: {assess: reviewing}
          reviewing: {}
        deadlines:
          - id: first
            reach: reviewing
            from: started
            within: 1s
            escalation:
              - {after: 0s, notify: branch_lead}
              - {after: 2s, notify: duty_commander}
          - id: second
            reach: reviewing
            from: started
            within: 4s
        close:
          from: [reviewing]
          dispositions: [resolved]

        """

    /// Reproducer: restarted after 60 s, jointopsd fired "first missed" (due :57), "second
    /// missed" (due :12), then first's rung 2 (due :07): the rung is armed only when its
    /// deadline is missed, after the pass that had already taken the second deadline.
    @Test func pastDueTimersAndTheRungsTheyArmFireInDueOrderAfterAnOutage() throws {
        let folder = try WorkflowLoadingTests.WorkflowsFolder(["outage-order.yaml": Data(Self.workflow.utf8)])
        defer { withExtendedLifetime(folder) {} }
        let daemon = try DaemonHarness(workflows: folder.url.path, regions: nil)
        let started = try daemon.call(
            "io.jointops.Operations.Start", ["workflow": .string("outage-order"), "id": .string("OP-OUT"), "region": .string("hexi")])
        #expect(started.error == nil, "\(started)")
        try daemon.restart(away: 5.5)
        var fired: [String] = []
        for _ in 0..<100 {
            let events = items(try daemon.call("io.jointops.Operations.History", ["id": .string("OP-OUT")]).parameters["events"])
            fired = events.filter { ["deadline_missed", "escalated"].contains($0["kind"]?.stringValue ?? "") }
                .compactMap { $0["description"]?.stringValue }
            if fired.count == 4 { break }
            usleep(50_000)
        }
        #expect(fired.count == 4, "\(fired)")
        let order = fired.map {
            $0.hasPrefix("deadline first")
                ? "first" : $0.hasPrefix("deadline second") ? "second" : $0.contains("rung 1") ? "rung 1" : "rung 2"
        }
        #expect(order == ["first", "rung 1", "rung 2", "second"], "\(fired)")
        daemon.stop()
    }

    static let ladder = """
        workflow: outage-ladder
        version: 1
        title: A missed deadline's ladder across an outage
        phases:
          reported:
            initial: true
            on: {assess: reviewing}
          reviewing: {}
        deadlines:
          - id: review
            reach: reviewing
            from: started
            within: 1s
            escalation:
              - {after: 0s, notify: branch_lead}
              - {after: 1s, notify: duty_commander}
              - {after: 2s, notify: director}
        close:
          from: [reviewing]
          dispositions: [resolved]

        """

    /// Reproducer (a chaos soak): after a restart an operator's command got in between the
    /// passes that fire the overdue timers: the phase a missed deadline waited for was
    /// entered after its first rungs, and the rungs still due then were cancelled by it,
    /// never fired and left no trace. Now every overdue timer, and every rung it arms that
    /// is due too, fires before the control socket takes a command.
    @Test func overdueTimersAndTheRungsTheyArmFireBeforeTheFirstCommandAfterARestart() throws {
        let folder = try WorkflowLoadingTests.WorkflowsFolder(["outage-ladder.yaml": Data(Self.ladder.utf8)])
        defer { withExtendedLifetime(folder) {} }
        let daemon = try DaemonHarness(workflows: folder.url.path, regions: nil)
        let ids = (0..<8).map { "OP-LADDER-\($0)" }
        for id in ids {
            let started = try daemon.call(
                "io.jointops.Operations.Start", ["workflow": .string("outage-ladder"), "id": .string(id), "region": .string("hexi")])
            #expect(started.error == nil, "\(started)")
        }
        // Stopped until the deadline (1 s) and its three rungs (1, 2 and 3 s) are all past due.
        try daemon.restart(away: 4.5)
        // The moment it listens, every operation is moved on, each on a connection of its own.
        let clients = try ids.map { _ in try daemon.client() }
        for (id, client) in zip(ids, clients) {
            try client.send(
                VarlinkCall(method: "io.jointops.Operations.Fire", parameters: ["id": .string(id), "event": .string("assess")]))
        }
        for client in clients { #expect(try client.receive().error == nil) }
        for id in ids {
            let kinds = items(try daemon.call("io.jointops.Operations.History", ["id": .string(id)]).parameters["events"])
                .compactMap { $0["kind"]?.stringValue }
                .filter { ["deadline_missed", "escalated", "phase_entered"].contains($0) }
            // (The first phase_entered is the start's, into reported.)
            #expect(
                kinds == ["phase_entered", "deadline_missed", "escalated", "escalated", "escalated", "phase_entered"], "\(id): \(kinds)")
        }
        // One firing an operation: the deadline with every rung due by then, in due order.
        #expect(
            daemon.log.contains(
                "fired the overdue timers of 8 operations (each one's in due order, and the ladder rungs they armed) before taking commands"
            ),
            "\(daemon.log)")
        daemon.stop()
    }
}
