import Foundation
import JointOpsCore
import JointOpsProtocol
import Synchronization
import Testing

/// Reproducer: a reload read and checked the workflow files on the engine; with large
/// workflows (five of 190 branches × 195 steps) it took 16 s, every command waited for it,
/// and no watchdog ping was sent for longer than the unit's WatchdogSec.
@Suite struct ReloadAwayTests {
    /// public-assistance with `branches` extra branches of `steps` steps each: slow to check.
    static func largeWorkflow(branches: Int, steps: Int) throws -> String {
        var text = try String(contentsOf: DaemonHarness.root.appendingPathComponent("Workflows/public-assistance.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "workflow: public-assistance", with: "workflow: large")
        let dispatched = (0..<branches).map { "      - branch: b\($0)\n" }.joined()
        let defined = (0..<branches).map { branch in
            "  b\(branch):\n    kind: other\n    steps:\n"
                + (0..<steps).map { step in
                    "      s\(step): {\(step == 0 ? "initial: true, " : "")next: [\(step + 1 < steps ? "s\(step + 1)" : "completed"), s0, stood_down]}\n"
                }.joined() + "      completed: {end: completed}\n      stood_down: {end: stood_down}\n"
        }.joined()
        let before = text
        text = text.replacingOccurrences(
            of: "    dispatch:\n      - branch: patrol\n", with: "    dispatch:\n      - branch: patrol\n" + dispatched, options: [],
            range: text.range(of: "    dispatch:\n      - branch: patrol\n"))
        text = text.replacingOccurrences(of: "\nbranches:\n", with: "\nbranches:\n" + defined)
        #expect(text != before)
        return text
    }

    @Test func commandsAreAnsweredWhileAReloadReadsLargeWorkflows() throws {
        let folder = URL(fileURLWithPath: "/tmp/jointops-large-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try Self.largeWorkflow(branches: 100, steps: 100).write(
            to: folder.appendingPathComponent("large.yaml"), atomically: true, encoding: .utf8)
        let daemon = try DaemonHarness(workflows: folder.path, regions: nil, units: nil)
        let order = Mutex<[String]>([])
        let reloader = Thread {
            let reply = try? daemon.call("io.jointops.Admin.Reload")
            order.withLock { $0.append(reply != nil && reply?.error == nil ? "reload" : "reload failed: \(String(describing: reply))") }
        }
        reloader.start()
        usleep(200_000)
        #expect(try daemon.call("io.jointops.Operations.Workflows").error == nil)
        order.withLock { $0.append("workflows") }
        while order.withLock({ $0.count }) < 2 { usleep(20_000) }
        #expect(order.withLock { $0 } == ["workflows", "reload"], "the call waited for the reload")
    }
}
