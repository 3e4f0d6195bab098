import Dispatch
import Foundation
import JointOpsCore
import JointOpsProtocol
import Synchronization
import Testing

/// Lists of many open operations: each is the summary of every matching one, filtered and
/// sorted. Reproducer (a concurrency audit): a `List` of 5,000 open operations held every
/// other call for about 170 ms while the engine built it.
@Suite(.serialized) struct ListAwayTests {
    @Test func aCallMadeWhileManyListsAreBuiltIsAnsweredFirstAndEveryListIsWhole() throws {
        let daemon = try DaemonHarness(regions: nil)
        let open = 1500
        for index in 0..<open { #expect(try daemon.startArmed("OP-L-\(index)").error == nil) }
        let listers = try (0..<30).map { _ in try daemon.client() }
        for lister in listers { try lister.send(VarlinkCall(method: "io.jointops.Operations.List", parameters: ["limit": .int(10_000)])) }
        let listed = Mutex<[(at: UInt64, operations: Int)]>([])
        let failures = Mutex<[String]>([])
        let reading = DispatchGroup()
        for (index, lister) in listers.enumerated() {
            reading.enter()
            Thread {
                defer { reading.leave() }
                do {
                    let reply = try lister.receive()
                    let at = DispatchTime.now().uptimeNanoseconds
                    guard case .array(let operations)? = reply.parameters["operations"] else {
                        failures.withLock { $0.append("list \(index): \(reply)") }
                        return
                    }
                    listed.withLock { $0.append((at, operations.count)) }
                } catch {
                    failures.withLock { $0.append("list \(index): \(error)") }
                }
            }.start()
        }
        // Sent after every List: before, it was answered after most of them.
        let shown = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-L-0")])
        let answered = DispatchTime.now().uptimeNanoseconds
        #expect(shown.error == nil)
        #expect(reading.wait(timeout: .now() + 120) == .success, "the lists did not all arrive within 2 minutes")
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        let replies = listed.withLock { $0 }
        #expect(replies.count == listers.count)
        #expect(replies.allSatisfy { $0.operations == open }, "\(replies.map(\.operations))")
        let before = replies.filter { $0.at < answered }.count
        // Before, 24 to 26 of the 30 (the rest still being encoded); now none here.
        #expect(before < listers.count / 2, "\(before) of \(listers.count) lists were answered before the Show")
    }
}
