import Dispatch
import Foundation
import JointOpsCore
import JointOpsProtocol
import Synchronization
import Testing

/// Reads over every open operation — `List`, `Overdue` — are built away from the engine, so
/// many of them at once do not hold up other calls. Reproducers: a `List` of 5,000 open
/// operations held every other call for about 170 ms (a concurrency audit); `Overdue` with
/// 110,000 open escalations after a restart held them 0.85 s, and one client polling it made
/// deadlines fire up to 0.7 s late (a deadline-storm audit).
@Suite(.serialized) struct ReadsAwayTests {
    @Test func aCallMadeWhileManyListsAreBuiltIsAnsweredFirstAndEveryListIsWhole() throws {
        let daemon = try DaemonHarness(regions: nil)
        for index in 0..<1500 { #expect(try daemon.startArmed("OP-L-\(index)").error == nil) }
        // Before, 24 to 26 of the 30 were answered before the Show (the rest still being encoded); now none here.
        try Self.expectAShowAnsweredBeforeMostOf(
            30, VarlinkCall(method: "io.jointops.Operations.List", parameters: ["limit": .int(10_000)]), items: "operations",
            count: 1500, show: "OP-L-0", on: daemon)
    }

    @Test func aCallMadeWhileManyOverdueListsAreBuiltIsAnsweredFirstAndEveryOneIsWhole() throws {
        let daemon = try DaemonHarness(regions: nil, fastAssessment: true)
        for index in 0..<1500 { #expect(try daemon.startArmed("OP-O-\(index)").error == nil) }
        // Every assessment is due a second after its start: wait until all 1,500 are missed.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, Self.count(try daemon.call("io.jointops.Operations.Overdue"), "overdue") < 1500 { usleep(200_000) }
        // Before, 25 of the 30 were answered before the Show (2 runs); now none here.
        try Self.expectAShowAnsweredBeforeMostOf(
            30, VarlinkCall(method: "io.jointops.Operations.Overdue", parameters: [:]), items: "overdue", count: 1500, show: "OP-O-0",
            on: daemon)
    }

    static func count(_ reply: VarlinkReply, _ items: String) -> Int {
        guard case .array(let rows)? = reply.parameters[items] else { return 0 }
        return rows.count
    }

    /// Sends `call` on `readers` connections, then a Show of `show`: every reply has `count`
    /// `items`, and the Show is answered before most of them.
    static func expectAShowAnsweredBeforeMostOf(
        _ readers: Int, _ call: VarlinkCall, items: String, count: Int, show: String, on daemon: DaemonHarness
    ) throws {
        let clients = try (0..<readers).map { _ in try daemon.client() }
        for client in clients { try client.send(call) }
        let answered = Mutex<[(at: UInt64, items: Int)]>([])
        let failures = Mutex<[String]>([])
        let reading = DispatchGroup()
        for (index, client) in clients.enumerated() {
            reading.enter()
            Thread {
                defer { reading.leave() }
                do {
                    let reply = try client.receive()
                    let at = DispatchTime.now().uptimeNanoseconds
                    guard reply.error == nil else {
                        failures.withLock { $0.append("\(call.method) \(index): \(reply)") }
                        return
                    }
                    answered.withLock { $0.append((at, Self.count(reply, items))) }
                } catch {
                    failures.withLock { $0.append("\(call.method) \(index): \(error)") }
                }
            }.start()
        }
        // Sent after every read: before, it was answered after most of them.
        let shown = try daemon.call("io.jointops.Operations.Show", ["id": .string(show)])
        let shownAt = DispatchTime.now().uptimeNanoseconds
        #expect(shown.error == nil)
        #expect(reading.wait(timeout: .now() + 120) == .success, "the replies did not all arrive within 2 minutes")
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        let replies = answered.withLock { $0 }
        #expect(replies.count == readers)
        #expect(replies.allSatisfy { $0.items == count }, "\(replies.map(\.items))")
        let before = replies.filter { $0.at < shownAt }.count
        #expect(before < readers / 2, "\(before) of \(readers) were answered before the call made after them")
    }
}
