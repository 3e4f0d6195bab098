import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// A store the previous release wrote (migration 0002: no report facts, no units) opens with
/// this jointopsd: it migrates, back-fills the report facts, recovers the running operation
/// on its workflow version, and everything goes on.
@Suite(.serialized) struct UpgradeTests {
    @Test func aStoreFromThePreviousReleaseOpensAndCarriesOn() throws {
        let fixture = DaemonHarness.root.appendingPathComponent("Tests/Fixtures/stores/previous-release-0002.sqlite")
        let daemon = try DaemonHarness(store: fixture)
        #expect(!daemon.log.contains("is not loaded"), "every workflow loads:\n\(daemon.log)")
        // The upgrade is said in the journal, not done in silence.
        #expect(
            daemon.log.contains("the store's schema was upgraded from 0002 client requests for idempotent retries to 0010"),
            "\(daemon.log)")
        // The chain the old release wrote verifies, as one chain with what follows.
        let verified = try daemon.call("io.jointops.Admin.Verify")
        #expect(verified.parameters["intact"] == .bool(true), "\(verified)")
        // The running operation is back, on the version it started with.
        let old = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-OLD-2")]).operation
        #expect(old?["phase"] == .string("responding"))
        #expect(old?["version"] == .int(1))
        for (method, parameters) in [
            ("Advance", ["branch": JSONValue.string("swat"), "step": .string("on_scene")]),
            ("Note", ["text": .string("after the upgrade")]),
        ] {
            var call = parameters
            call["id"] = .string("OP-OLD-2")
            let reply = try daemon.call("io.jointops.Operations.\(method)", call)
            #expect(reply.error == nil, "\(method): \(reply)")
        }
        // The ended operations were back-filled into the reports.
        let figures = DaemonHarness.currentFigures(try daemon.evaluate())
        #expect(figures["operations.started"] == .int(3))
        #expect(figures["operations.closed"] == .int(1))
        #expect(figures["operations.cancelled"] == .int(1))
        #expect(figures["start_to_closed.count"] == .int(1))
        #expect(figures["deadline.swat_on_scene.compliance"] == .int(100))
        // The closed one can be rated; a new operation starts on the new version with units.
        let rated = try daemon.call(
            "io.jointops.Operations.Rate",
            ["id": .string("OP-OLD-1"), "before": .int(5), "during": .int(5), "after": .int(4), "score": .int(5)])
        #expect(rated.error == nil, "\(rated)")
        #expect(try daemon.startArmed("OP-NEW-1").operation?["version"] == .int(2))
        for event in ["assess", "dispatch"] {
            #expect(try daemon.call("io.jointops.Operations.Fire", ["id": .string("OP-NEW-1"), "event": .string(event)]).error == nil)
        }
        let dispatched = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-NEW-1")]).operation
        let swat = (dispatched?["branches"]?.arrayValue ?? []).first { $0["branch"] == .string("swat") }
        #expect((swat?["assignedUnits"]?.arrayValue ?? []).count == 2, "\(String(describing: swat))")
        #expect(try daemon.call("io.jointops.Admin.Verify").parameters["intact"] == .bool(true))
    }
}
