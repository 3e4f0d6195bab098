import Foundation
import JointOpsCore
import Testing

extension CommandLineOutputTests {
    /// `overdue`: P1 first, then the longest late, with the priority and a held mark; `list`
    /// marks the held operation too.
    @Test func overdueIsMostUrgentFirstAndMarksHeldOperations() throws {
        let daemon = try DaemonHarness(fastAssessment: true)
        for (id, priority) in [("OP-A", "P3"), ("OP-B", "P1"), ("OP-C", "P1")] {
            let start = try Self.ctl(
                [
                    "start", "armed-response", "--id", id, "--region", "hexi", "-a", "incident_type=armed_assault", "-a",
                    "priority=\(priority)",
                ],
                socket: daemon.socket)
            #expect(start.status == 0, "\(start.stderr)")
        }
        for _ in 0..<100 where daemon.overdue.count < 3 { usleep(50_000) }
        #expect(try Self.ctl(["hold", "OP-C", "negotiating"], socket: daemon.socket).status == 0)
        let overdue = try Self.ctl(["overdue"], socket: daemon.socket)
        #expect(
            overdue.stdout == """
                OPERATION  PRIORITY  REGION  DEADLINE  BRANCH  MISSED  ESCALATION  ALERTED  ACKNOWLEDGED
                OP-B  P1  hexi  assessment  -  <time>  #1  command_center, duty_commander  no
                OP-C (held)  P1  hexi  assessment  -  <time>  #1  command_center, duty_commander  no
                OP-A  P3  hexi  assessment  -  <time>  #1  command_center, duty_commander  no

                """)
        let list = try Self.ctl(["list"], socket: daemon.socket)
        #expect(list.stdout.contains("\nOP-C  armed-response  reported (held)  hexi  P1  "), "\(list.stdout)")
        #expect(list.stdout.contains("\nOP-B  armed-response  reported  hexi  P1  "), "\(list.stdout)")
    }
}
