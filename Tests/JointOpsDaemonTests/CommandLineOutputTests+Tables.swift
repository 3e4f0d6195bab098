import Foundation
import JointOpsCore
import Testing

extension CommandLineOutputTests {
    /// `regions --region R --json` is filtered like the table: R and its sub-regions only.
    @Test func regionsJSONIsFilteredLikeTheTable() throws {
        let daemon = try DaemonHarness()
        let json = try Self.ctl(["regions", "--region", "hexi-liulin", "--json"], socket: daemon.socket)
        #expect(json.status == 0)
        let regions = try JSONParser.parse(json.stdout.trimmingCharacters(in: .newlines))["regions"]?.arrayValue ?? []
        #expect(regions.compactMap { $0["id"]?.stringValue } == ["hexi-liulin", "hexi-liulin-g1", "hexi-liulin-g2"])
    }
}

extension CommandLineOutputTests {
    /// Chinese characters take two terminal columns: the columns after a Chinese cell line up
    /// (compared raw, with the padding as printed).
    @Test func tablesWithChineseLineUp() throws {
        let daemon = try DaemonHarness()
        let regions = try Self.ctl(["regions", "--region", "hexi-liulin"], socket: daemon.socket, raw: true)
        #expect(
            regions.stdout == """
                REGION            LEVEL    NAME                          FREE  FREE WITHIN  OPERATIONS
                hexi-liulin       station  柳林派出所 / Liulin Station   4     6
                  hexi-liulin-g1  grid     柳林第一网格 / Liulin Grid 1  1     1
                  hexi-liulin-g2  grid     柳林第二网格 / Liulin Grid 2  1     1

                """)
        let units = try Self.ctl(["units", "--region", "hexi-liulin"], socket: daemon.socket, raw: true)
        #expect(
            units.stdout == """
                UNIT              CALL SIGN      BRANCH        HOME            CAPABILITIES  STATUS     OPERATION
                hx-liulin-g1-pop  柳林网格员1    population    hexi-liulin-g1  -             available  -
                hx-liulin-g2-pop  柳林网格员2    population    hexi-liulin-g2  -             available  -
                hx-liulin-po-1    柳林巡逻1      public_order  hexi-liulin     -             available  -
                hx-liulin-po-2    柳林巡逻2      public_order  hexi-liulin     -             available  -
                hx-liulin-po-3    柳林巡逻3      public_order  hexi-liulin     -             available  -
                hx-liulin-pop-1   柳林社区民警1  population    hexi-liulin     -             available  -

                """)
    }
}

extension CommandLineOutputTests {
    /// A note with a line break and a tab stays on its row of the history (and of the Markdown
    /// report), the control characters written as escapes; --json has them as they are.
    @Test func aNoteWithLineBreaksStaysOnItsRow() throws {
        let daemon = try DaemonHarness()
        #expect(try daemon.startArmed("OP-N").error == nil)
        #expect(try Self.ctl(["note", "OP-N", "two suspects\nblue van\tplate 津A"], socket: daemon.socket).status == 0)
        let history = try Self.ctl(["history", "OP-N"], socket: daemon.socket)
        #expect(history.stdout.split(separator: "\n").last == #"3  <time>  root (admin)  note: two suspects\nblue van\tplate 津A"#)
        let markdown = try Self.ctl(["report", "operation", "OP-N", "--markdown"], socket: daemon.socket)
        #expect(markdown.stdout.hasSuffix(#"| 3 | <clock> | root (admin) | note: two suspects\nblue van\tplate 津A |"# + "\n"))
        let json = try Self.ctl(["history", "OP-N", "--json"], socket: daemon.socket)
        let events = try JSONParser.parse(json.stdout.trimmingCharacters(in: .newlines))["events"]?.arrayValue ?? []
        #expect(events.last?["description"]?.stringValue?.contains("two suspects\nblue van\tplate 津A") == true)
    }
}
