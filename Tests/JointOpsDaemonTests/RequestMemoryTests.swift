import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// Replies to client request ids live in the store, not also in jointopsd's memory.
@Suite(.serialized) struct RequestMemoryTests {
    /// jointopsd's resident memory in bytes, from /proc.
    static func residentBytes(of pid: Int32) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
    }

    /// Sends `count` Notes, each with a request id of its own, on one connection, then reads
    /// every reply.
    static func notes(_ daemon: DaemonHarness, _ id: String, from first: Int, count: Int) throws {
        let client = try daemon.client()
        for batch in stride(from: first, to: first + count, by: 200) {
            for number in batch..<min(first + count, batch + 200) {
                try client.send(
                    VarlinkCall(
                        method: "io.jointops.Operations.Note",
                        parameters: ["id": .string(id), "text": .string("report \(number)"), "requestId": .string("note-\(number)")]))
            }
            for _ in batch..<min(first + count, batch + 200) {
                let reply = try client.receive()
                #expect(reply.error == nil, "\(reply)")
            }
        }
    }

    /// Reproducer: every command carrying a request id (jointopsctl sends one with each)
    /// left its whole reply in a dictionary for as long as jointopsd ran: about 3 KB a
    /// command, 170 MB over a 24-minute soak, given back only by a restart.
    @Test func repliesToRequestIDsDoNotPileUpInMemory() throws {
        // Without an fsync per commit: one operation's commands run one at a time.
        let daemon = try DaemonHarness(configuration: "durability: normal\n")
        #expect(try UnitsTests.dispatch(daemon, "OP-MEM").error == nil)
        try Self.notes(daemon, "OP-MEM", from: 0, count: 3000)  // caches and allocator warm up
        let before = try Self.residentBytes(of: daemon.process.processIdentifier)
        try Self.notes(daemon, "OP-MEM", from: 3000, count: 12_000)
        let grown = try Self.residentBytes(of: daemon.process.processIdentifier) - before
        // Each reply is the dispatched operation's view, about 3 KB: kept, 12,000 of them are 36 MB.
        #expect(grown < 12 << 20, "jointopsd grew by \(grown >> 20) MB over 12,000 commands with request ids")
        // A retry still gets the first reply, from the store.
        let retry = try daemon.call(
            "io.jointops.Operations.Note", ["id": .string("OP-MEM"), "text": .string("report 7"), "requestId": .string("note-7")])
        #expect(retry.error == nil, "\(retry)")
        // (History answers a page at a time: these are two pages of 10,000.)
        let notes = try HistoryPagingTests.pages(daemon, "OP-MEM", limit: 10_000).joined().filter { $0["kind"] == .string("noted") }
        #expect(notes.count == 15_000)
        daemon.stop()
    }
}

extension RequestMemoryTests {
    /// As the interface says (a chaos soak found the old wording promised more): a refused
    /// command applied nothing and its request id is not remembered, so repeating it once
    /// the operation has moved on applies it — once; an applied one is not applied again.
    @Test func aRefusedCommandIsNotRememberedByItsRequestIdAnAppliedOneIs() throws {
        let daemon = try DaemonHarness()
        defer { daemon.stop() }
        #expect(try daemon.startArmed("OP-REQ").error == nil)
        let dispatch: [String: JSONValue] = ["id": .string("OP-REQ"), "event": .string("dispatch"), "requestId": .string("req-dispatch")]
        let early = try daemon.call("io.jointops.Operations.Fire", dispatch)
        #expect(early.error == "io.jointops.Operations.CommandRefused", "\(early)")
        #expect(try daemon.call("io.jointops.Operations.Fire", ["id": .string("OP-REQ"), "event": .string("assess")]).error == nil)
        let applied = try daemon.call("io.jointops.Operations.Fire", dispatch)
        #expect(applied.error == nil, "\(applied)")
        let again = try daemon.call("io.jointops.Operations.Fire", dispatch)
        #expect(again.error == nil && again.parameters == applied.parameters, "the first result, nothing applied again")
        let history = items(try daemon.call("io.jointops.Operations.History", ["id": .string("OP-REQ")]).parameters["events"])
        #expect(history.filter { $0["kind"] == .string("phase_entered") }.count == 3, "reported, assessing, in_action: once each")
    }
}
