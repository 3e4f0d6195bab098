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
