import Foundation
import JointOpsCore
import Testing

extension CommandLineOutputTests {
    /// Under ten minutes a relative time has its seconds ("in 1m59s", not "in 1m"); above, minutes do.
    @Test func relativeTimesUnderTenMinutesHaveSeconds() throws {
        let daemon = try DaemonHarness()
        #expect(try daemon.startArmed("OP-T").error == nil)
        let shown = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-T")])
        let start = try #require(shown.operation?["startedAt"]?.stringValue.flatMap(ISO8601.parse))
        /// The relative part of `show`'s "started …" when it is `seconds` after the start.
        func started(after seconds: Int64) throws -> String {
            let now = ISO8601.format(Instant(milliseconds: start.milliseconds + seconds * 1000))
            let show = try Self.ctl(["show", "OP-T"], socket: daemon.socket, environment: ["JOINTOPSCTL_NOW": now], raw: true)
            let line = show.stdout.split(separator: "\n").first { $0.hasPrefix("started ") } ?? ""
            return line.firstMatch(of: /\(([^)]*)\)/).map { String($0.1) } ?? line.description
        }
        #expect(try started(after: 45) == "45s ago")
        #expect(try started(after: 119) == "1m59s ago")
        #expect(try started(after: 185) == "3m05s ago")
        #expect(try started(after: -119) == "in 1m59s")
        #expect(try started(after: 725) == "12m ago")
        #expect(try started(after: 7500) == "2h5m ago")
    }
}
