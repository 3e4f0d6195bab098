import Foundation
import JointOpsCore
import Testing

extension CommandLineOutputTests {
    /// An after-action report is pasted into review documents: local times only, and a
    /// step met late says by how much.
    @Test func theAfterActionReportHasLocalTimesAndSaysHowLateAStepWasMet() throws {
        let daemon = try DaemonHarness(fastAssessment: true)
        #expect(try daemon.startArmed("OP-R").error == nil)
        for _ in 0..<100 {
            if daemon.overdue.contains(where: { $0["operation"] == .string("OP-R") }) { break }
            usleep(50_000)
        }
        #expect(try Self.ctl(["fire", "OP-R", "assess"], socket: daemon.socket).status == 0)
        /// The late amount depends on the machine's speed: `met, <n>s late`.
        func report(_ arguments: [String]) throws -> String {
            try Self.ctl(arguments, socket: daemon.socket).stdout.replacingOccurrences(
                of: #"met, \d+s late"#, with: "met, <n>s late", options: .regularExpression)
        }
        let markdown = try report(["report", "operation", "OP-R", "--markdown"])
        #expect(
            markdown == """
                # After-action report: OP-R — armed-response v2 — 持械警情处置 / Armed-suspect emergency response

                phase assessing, region hexi, priority P1, started <clock>, last change <clock>

                ## Deadlines, planned against actual

                | Deadline | For | Armed | Due | Outcome | At |
                |---|---|---|---|---|---|
                | assessment | operation | <clock> | <clock> | met, <n>s late (escalation #1) | <clock> |

                ## Timeline

                | # | Time | Who | What |
                |---|---|---|---|
                | 1 | <clock> | root (admin) | started OP-R from armed-response v2 in region hexi |
                | 2 | <clock> | root (admin) | phase → reported (start) |
                | 3 | <clock> | system | deadline assessment missed (escalation 1) |
                | 4 | <clock> | system | escalation 1 rung 1 of assessment: notify duty_commander |
                | 5 | <clock> | root (admin) | phase → assessing (event assess) |

                """)
        let text = try report(["report", "operation", "OP-R"])
        #expect(
            text == """
                After-action report: OP-R — armed-response v2 — 持械警情处置 / Armed-suspect emergency response
                phase assessing, region hexi, priority P1, started <clock>, last change <clock>

                Deadlines, planned against actual
                DEADLINE  FOR  ARMED  DUE  OUTCOME  AT
                assessment  operation  <clock>  <clock>  met, <n>s late (escalation #1)  <clock>

                Timeline
                #  TIME  WHO  WHAT
                1  <clock>  root (admin)  started OP-R from armed-response v2 in region hexi
                2  <clock>  root (admin)  phase → reported (start)
                3  <clock>  system  deadline assessment missed (escalation 1)
                4  <clock>  system  escalation 1 rung 1 of assessment: notify duty_commander
                5  <clock>  root (admin)  phase → assessing (event assess)

                """)
    }
}

extension DaemonHarness {
    /// The rows of io.jointops.Operations.Overdue.
    var overdue: [JSONValue] {
        (try? call("io.jointops.Operations.Overdue").parameters["overdue"]?.arrayValue) ?? []
    }
}
