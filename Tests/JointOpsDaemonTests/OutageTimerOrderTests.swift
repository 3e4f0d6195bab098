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
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
            "outage-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.workflow.write(to: folder.appendingPathComponent("outage-order.yaml"), atomically: true, encoding: .utf8)
        let daemon = try DaemonHarness(workflows: folder.path, regions: nil)
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
}
