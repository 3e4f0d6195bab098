import Foundation
import JointOpsCore
import Testing

extension CommandLineOutputTests {
    /// Reproducer: a branch short of units showed nowhere in `list` (only its `--json` had
    /// `awaitingUnits`) or on the board, until its awaiting_units deadline went late minutes later.
    @Test func listSaysHowManyUnitsTheBranchesStillAwait() throws {
        let daemon = try DaemonHarness()
        let swat = UnitsTests.items(try daemon.call("io.jointops.Units.List", ["branch": .string("swat")]).parameters["units"])
        #expect(!swat.isEmpty)
        for unit in swat {
            let reply = try daemon.call(
                "io.jointops.Units.SetStatus",
                ["id": unit["id"]!, "status": .string("out_of_service"), "reason": .string("training day")])
            #expect(reply.error == nil, "\(reply)")
        }
        #expect(try UnitsTests.dispatch(daemon, "OP-S").error == nil)
        let list = try Self.ctl(["list"], socket: daemon.socket)
        #expect(
            list.stdout == """
                ID  WORKFLOW  PHASE  REGION  PRIORITY  BRANCHES  ESCALATIONS  STARTED
                OP-S  armed-response  responding  hexi  P1  3, 2 units short  0  <time>

                """, "\(list.stdout)")
        // The wall board says it too, in the branch's column.
        let board = try Self.ctl(["board", "--once"], socket: daemon.socket)
        #expect(board.stdout.contains("hexi  1  0  0  0  1  1 (2 short)  0  0  0\n"), "\(board.stdout)")
        let json = try Self.ctl(["board", "--once", "--json"], socket: daemon.socket)
        #expect(json.stdout.contains(#""unitsShort":{"swat":2}"#), "\(json.stdout)")
        daemon.stop()
    }
}

extension CommandLineOutputTests {
    /// Reproducer: `regions --region hexii` said "Error: unknown region 'hexii'; 'jointopsctl
    /// regions' lists them" with no closest id, followed by the top-level usage line.
    @Test func regionsOfAnUnknownRegionSuggestsTheClosest() throws {
        let daemon = try DaemonHarness()
        let output = try Self.ctl(["regions", "--region", "hexii"], socket: daemon.socket)
        #expect(output.status == 64)
        #expect(output.stderr.contains("invalid region: unknown region 'hexii'; did you mean 'hexi'"), "\(output.stderr)")
        #expect(!output.stderr.contains("Usage:"), "\(output.stderr)")
        daemon.stop()
    }
}

extension CommandLineOutputTests {
    /// Reproducer: `units import` of a missing file said "Error: cannot read …" with no cause,
    /// followed by the top-level usage line.
    @Test func importingAMissingRosterFileSaysWhy() throws {
        let output = try Self.ctl(["units", "import", "/nonexistent/roster.yaml"], socket: "/nonexistent.sock")
        #expect(output.status == 64)
        #expect(
            output.stderr == "cannot read the roster file /nonexistent/roster.yaml: there is no such file; nothing was imported.\n",
            "\(output.stderr)")
    }
}
