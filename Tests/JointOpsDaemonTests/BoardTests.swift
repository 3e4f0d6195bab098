import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// `jointopsctl board` built from the watch stream: regions × branches, late steps,
/// escalations — exact output of `--once` and `--json`.
@Suite(.serialized) struct BoardTests {
    @Test func theBoardShowsRegionsBranchesAndLateSteps() throws {
        let daemon = try DaemonHarness(fastAssessment: true)
        func ctl(_ arguments: [String]) throws -> CommandLineOutputTests.Output {
            try CommandLineOutputTests.ctl(arguments, socket: daemon.socket)
        }
        let empty = try ctl(["board", "--once"])
        #expect(empty.status == 0)
        #expect(
            empty.stdout == """
                jointops board  <clock>  0 open · 0 late · 0 escalations (0 unacknowledged)

                REGION  OPEN  LATE  ESCALATIONS  CRIM  ORDER  SWAT  POP  TRAFFIC  OTHER
                TOTAL  0  0  0  0  0  0  0  0  0

                No late steps.

                """)
        // OP-1 in hexi is dispatched (public order + SWAT; traffic to its fixed region); OP-2 in heping misses its assessment.
        for arguments in [
            [
                "start", "armed-response", "--id", "OP-1", "--region", "hexi", "-a", "incident_type=armed_robbery", "-a", "priority=P1",
                "-a", "weapon_involved=true",
            ],
            ["fire", "OP-1", "assess"], ["fire", "OP-1", "dispatch"],
            ["start", "armed-response", "--id", "OP-2", "--region", "heping", "-a", "incident_type=armed_assault", "-a", "priority=P3"],
        ] {
            #expect(try ctl(arguments).status == 0, "\(arguments)")
        }
        var board = try ctl(["board", "--once"])
        for _ in 0..<100 where !board.stdout.contains("1 late") {
            usleep(50_000)
            board = try ctl(["board", "--once"])
        }
        #expect(
            board.stdout == """
                jointops board  <clock>  2 open · 1 late · 1 escalations (1 unacknowledged)

                REGION  OPEN  LATE  ESCALATIONS  CRIM  ORDER  SWAT  POP  TRAFFIC  OTHER
                heping  1  1  1 (1 new)  0  0  0  0  0  0
                hexi  1  0  0  0  1  1  0  0  0
                tj-traffic-command  0  0  0  0  0  0  0  1  0
                TOTAL  2  1  1 (1 new)  0  1  1  0  1  0

                LATE STEPS (latest first)
                OPERATION  REGION  BRANCH  DEADLINE  MISSED  LADDER  STATUS
                OP-2  heping  operation  assessment  <time>  1 rung  NOT acknowledged

                """)
        #expect(try ctl(["acknowledge", "OP-2", "--deadline", "assessment"]).status == 0)
        let json = try ctl(["board", "--json"])
        #expect(json.status == 0)
        let parsed = try JSONParser.parse(json.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let late = parsed["late"]?.arrayValue ?? []
        #expect(late.count == 1)
        #expect(late.first?["operation"] == .string("OP-2"))
        #expect(late.first?["acknowledged"] == .bool(true))
        let regions = parsed["regions"]?.arrayValue ?? []
        #expect(regions.map { $0["region"]?.stringValue ?? "" } == ["heping", "hexi", "tj-traffic-command"])
        #expect(regions[1]["branches"] == .object(["public_order": .int(1), "swat": .int(1)]))
        // Filtered to one region, and a closed operation leaves the board.
        let heping = try ctl(["board", "--once", "--region", "hexi"])
        #expect(heping.stdout.contains("1 open · 0 late"))
        for arguments in [["fire", "OP-2", "assess"], ["fire", "OP-2", "stand_down_early"], ["close", "OP-2", "unfounded"]] {
            #expect(try ctl(arguments).status == 0, "\(arguments)")
        }
        #expect(try ctl(["board", "--once"]).stdout.contains("1 open · 0 late · 0 escalations"))
    }
}
