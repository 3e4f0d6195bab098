import Foundation
import JointOpsCore
import Testing

extension CommandLineOutputTests {
    /// An assessment due one second after the start, whose ladder's second rung is an hour later.
    static let slowAssessment = """
        workflow: slow-assessment
        version: 1
        title: Slow assessment
        phases:
          reported:
            initial: true
            on: {assess: assessing}
          assessing: {}
        deadlines:
          - id: assessment
            reach: assessing
            from: started
            within: 1s
            escalation:
              - {after: 0m, notify: duty_commander}
              - {after: 1h, notify: command_center}
        close: {from: [assessing], dispositions: [resolved]}
        """

    /// Reproducer: a late deadline showed `DUE … (in 59m)  LATE — escalating`, the time of its
    /// ladder's next rung as if it were the deadline's. It shows when it was due, and the next
    /// rung labelled as such.
    @Test func aLateDeadlineShowsItsOwnDueTimeAndTheNextRung() throws {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
            "slow-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.slowAssessment.write(to: folder.appendingPathComponent("slow-assessment.yaml"), atomically: true, encoding: .utf8)
        let daemon = try DaemonHarness(workflows: folder.path)
        #expect(try Self.ctl(["start", "slow-assessment", "--id", "OP-L", "--region", "hexi"], socket: daemon.socket).status == 0)
        for _ in 0..<100 where !daemon.overdue.contains(where: { $0["operation"] == .string("OP-L") }) { usleep(50_000) }

        let shown = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-L")])
        let start = try #require(shown.operation?["startedAt"]?.stringValue.flatMap(ISO8601.parse))
        let now = ISO8601.format(start + 61_000)
        let show = try Self.ctl(["show", "OP-L"], socket: daemon.socket, environment: ["JOINTOPSCTL_NOW": now])
        #expect(
            show.stdout.contains("TIMER  FOR  DUE\ndeadline assessment  operation  <time>  LATE — escalating, next rung <time>\n"),
            "\(show.stdout)")
        let raw = try Self.ctl(["show", "OP-L"], socket: daemon.socket, environment: ["JOINTOPSCTL_NOW": now], raw: true)
        let line = raw.stdout.split(separator: "\n").first { $0.hasPrefix("deadline assessment") } ?? ""
        #expect(line.matches(of: /\(([^)]*)\)/).map { String($0.1) } == ["1m00s ago", "in 59m"], "\(line)")

        // The view says both: `due` when the timer fires (the next rung), `deadlineDue` when the deadline was.
        let timer = try #require(shown.operation?["timers"]?.arrayValue?.first)
        let due = try #require(timer["deadlineDue"]?.stringValue.flatMap(ISO8601.parse))
        let next = try #require(timer["due"]?.stringValue.flatMap(ISO8601.parse))
        #expect(due == start + 1000, "the deadline was due a second after the start")
        #expect(next == due + 3_600_000, "the timer fires the next rung an hour later")
    }
    /// Reproducer: once a missed deadline's ladder had fired its last rung, nothing armed was
    /// left for it, so `show` had no TIMER row and no LATE mark; only an "open" escalation said
    /// so. The escalation row says how late it is, and for which branch instance.
    @Test func aLateDeadlineWhoseLadderHasEndedStillShowsLate() throws {
        let folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
            "ended-ladder-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let oneRung = Self.slowAssessment.replacingOccurrences(of: "      - {after: 1h, notify: command_center}\n", with: "")
        #expect(oneRung != Self.slowAssessment)
        try oneRung.write(to: folder.appendingPathComponent("slow-assessment.yaml"), atomically: true, encoding: .utf8)
        let daemon = try DaemonHarness(workflows: folder.path)
        #expect(try Self.ctl(["start", "slow-assessment", "--id", "OP-E", "--region", "hexi"], socket: daemon.socket).status == 0)
        for _ in 0..<100 where !daemon.overdue.contains(where: { $0["operation"] == .string("OP-E") }) { usleep(50_000) }

        let shown = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-E")])
        #expect(shown.operation?["timers"]?.arrayValue?.isEmpty == true, "the ladder has ended: nothing is armed")
        let start = try #require(shown.operation?["startedAt"]?.stringValue.flatMap(ISO8601.parse))
        let show = try Self.ctl(["show", "OP-E"], socket: daemon.socket, environment: ["JOINTOPSCTL_NOW": ISO8601.format(start + 61_000)])
        #expect(
            show.stdout.contains(
                "ESCALATION  REASON  FOR  OPENED  RUNGS  STATE\n#1  deadline 'assessment' missed  operation  <time>  1  LATE 1m00s, open\n"),
            "\(show.stdout)")
    }
}
