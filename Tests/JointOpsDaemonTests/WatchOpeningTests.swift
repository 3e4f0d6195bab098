import Dispatch
import Foundation
import JointOpsCore
import JointOpsProtocol
import Synchronization
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
        // Each watch is read on a thread of its own as its replies come (a watch left unread
        // would be closed as a stalled client), noting when its opening ended (`current`).
        let opened = Mutex<[Int: (at: UInt64, operations: Int)]>([:])
        let failures = Mutex<[String]>([])
        let reading = DispatchGroup()
        for (index, watcher) in watchers.enumerated() {
            reading.enter()
            Thread {
                defer { reading.leave() }
                var operations = Set<String>()
                do {
                    while true {
                        let reply = try watcher.receive()
                        if let id = reply.parameters["operation"]?["id"]?.stringValue { operations.insert(id) }
                        if reply.parameters["current"] == .bool(true) { break }
                    }
                    let at = DispatchTime.now().uptimeNanoseconds
                    opened.withLock { $0[index] = (at, operations.count) }
                } catch {
                    failures.withLock { $0.append("watch \(index): \(error)") }
                }
            }.start()
        }
        // Sent after every watch: before, it was answered after all their openings.
        let shown = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-W-0")])
        let answered = DispatchTime.now().uptimeNanoseconds
        #expect(shown.error == nil)
        #expect(reading.wait(timeout: .now() + 120) == .success, "the watches' openings did not all arrive within 2 minutes")
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        let openings = opened.withLock { $0 }
        #expect(openings.count == watchers.count)
        #expect(openings.values.allSatisfy { $0.operations == open }, "\(openings.values.map(\.operations))")
        let before = openings.values.filter { $0.at < answered }.count
        #expect(before == 0, "\(before) of \(watchers.count) watches had their whole opening before the Show was answered")
    }
}
