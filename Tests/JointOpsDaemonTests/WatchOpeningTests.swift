import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// Watches opening while many operations are open: each opening is the view of every
/// matching operation. Reproducer (a concurrency audit): with 5,000 open operations, 200
/// boards reconnecting at once (after a restart) built a million views on the engine, one
/// watch after the other, and held every command for 12 s and the watchdog's status longer
/// than `WatchdogSec`.
@Suite(.serialized) struct WatchOpeningTests {
    @Test func aCallMadeWhileManyWatchesOpenIsAnsweredFirstAndEveryWatchGetsTheWholeOpening() throws {
        let daemon = try DaemonHarness(regions: nil)
        let open = 1500
        for index in 0..<open { #expect(try daemon.startArmed("OP-W-\(index)").error == nil) }
        let watchers = try (0..<30).map { _ in try daemon.watch() }
        // Sent after every watch: before, it waited for all their openings.
        let shown = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-W-0")])
        #expect(shown.error == nil)
        // What each watch had received by the time the Show was answered, then the rest.
        var seen = Array(repeating: Set<String>(), count: watchers.count)
        var current = Array(repeating: false, count: watchers.count)
        func take(_ index: Int) throws {
            let reply = try watchers[index].receive()
            if reply.parameters["current"] == .bool(true) { current[index] = true }
            if let id = reply.parameters["operation"]?["id"]?.stringValue { seen[index].insert(id) }
        }
        for index in watchers.indices { while !current[index], watchers[index].replyReady(within: 0) { try take(index) } }
        let openedBeforeTheShow = current.filter { $0 }.count
        #expect(openedBeforeTheShow == 0, "\(openedBeforeTheShow) watches had their whole opening before the Show was answered")
        for index in watchers.indices { while !current[index] { try take(index) } }
        #expect(seen.allSatisfy { $0.count == open }, "\(seen.map(\.count))")
    }
}
