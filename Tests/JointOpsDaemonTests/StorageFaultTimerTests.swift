import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// A deadline that falls due while the store cannot write is not lost: jointopsd arms it
/// again, later and later, and it fires — late, its lateness recorded — once the store
/// takes writes again, without a restart. Mounting a small tmpfs needs root.
@Suite(.serialized) struct StorageFaultTimerTests {
    /// Writes zeros to `path` until the file system is full.
    static func fillDisk(_ path: String) {
        guard let file = fopen(path, "w") else { return }
        defer { fclose(file) }
        let block = [UInt8](repeating: 0, count: 64 * 1024)
        while fwrite(block, 1, block.count, file) == block.count, fflush(file) == 0 {}
    }

    @Test(.enabled(if: getuid() == 0, "SKIPPED: mounting a small tmpfs for the state directory needs root"))
    func aDeadlineDueDuringAStorageFaultFiresOnceTheStoreRecovers() throws {
        // At durability normal the WAL is not written out ahead (at full it is, and a small
        // disk's WAL would have room for this test's few commits even with the disk full).
        let daemon = try DaemonHarness(configuration: "durability: normal\n", regions: nil, fastAssessment: true, stateDisk: "8m")
        try daemon.startArmed("OP-FULL")  // its assessment falls due one second from now
        let filler = daemon.folder.appendingPathComponent("state/filler").path
        Self.fillDisk(filler)
        usleep(2_500_000)
        #expect(daemon.log.contains("OP-FULL: timer"), "\(daemon.log)")
        #expect(daemon.log.contains("fell due but could not be recorded"), "\(daemon.log)")
        unlink(filler)
        func missed() throws -> [JSONValue] {
            items(try daemon.call("io.jointops.Operations.History", ["id": .string("OP-FULL")]).parameters["events"])
                .filter { $0["kind"] == .string("deadline_missed") }
        }
        var recorded: [JSONValue] = []
        for _ in 0..<80 where recorded.isEmpty {
            usleep(100_000)
            recorded = (try? missed()) ?? []
        }
        #expect(recorded.count == 1, "the deadline fired once the store took writes again: \(daemon.log)")
        #expect(recorded.first?["description"]?.stringValue?.contains("late") == true, "\(recorded)")
        #expect(daemon.log.contains("is recorded now, after the storage fault"), "\(daemon.log)")
        // The fault is journalled once when it starts and once when it ends, not per command.
        #expect(
            daemon.log.components(
                separatedBy: "error jointopsd: message_id=3e8f1d6b2a9c4f7e8b0d5a3c1f9e6b27 [JointOpsDaemon] storage fault:"
            ).count == 2, "\(daemon.log)")
        #expect(daemon.log.contains("the store takes writes again"), "\(daemon.log)")
        #expect(try daemon.call("io.jointops.Admin.Verify").parameters["intact"] == .bool(true))
        daemon.stop()
    }

    /// Reproducer: on a full disk every command failed, yet the wall board and `watch` went
    /// on showing a quiet city; only STATUS and the journal knew.
    @Test(.enabled(if: getuid() == 0, "SKIPPED: mounting a small tmpfs for the state directory needs root"))
    func watchersAndTheBoardAreToldWhenTheStoreFaultsAndWhenItRecovers() throws {
        let daemon = try DaemonHarness(configuration: "durability: normal\n", regions: nil, stateDisk: "8m")
        try daemon.startArmed("OP-1")
        let watcher = try daemon.watch(["operation": .string("OP-1")])
        while try watcher.receive().parameters["current"] != .bool(true) {}
        let filler = daemon.folder.appendingPathComponent("state/filler").path
        Self.fillDisk(filler)
        var refused = 0
        for number in 0..<200 where refused == 0 {
            let reply = try daemon.call("io.jointops.Operations.Note", ["id": .string("OP-1"), "text": .string("note \(number)")])
            if reply.error != nil { refused += 1 }
        }
        #expect(refused == 1, "a note was refused once the disk was full")
        // A watcher of one operation hears it too: the fault is the whole daemon's.
        var began: JSONValue?
        while began == nil {
            let reply = try watcher.receive()
            began = reply.parameters["storeFault"]
        }
        #expect(began?["kind"] == .string("disk_full"), "\(String(describing: began))")
        #expect(began?["ended"] == .null)
        #expect(began?["failedCommands"] == .int(1))
        // A watch that starts during the fault is told among its first replies; so is the board.
        let late = try daemon.watch()
        var initial: [String: JSONValue] = [:]
        while initial["current"] != .bool(true) {
            let reply = try late.receive().parameters
            initial.merge(reply) { $1 }
        }
        #expect(initial["storeFault"]?["kind"] == .string("disk_full"))
        let board = try CommandLineOutputTests.ctl(["board", "--once"], socket: daemon.socket)
        #expect(
            board.stdout.contains("STORE FAULT (disk_full) since <clock>: every command is refused until it is mended"),
            "\(board.stdout)")
        let json = try CommandLineOutputTests.ctl(["board", "--once", "--json"], socket: daemon.socket, raw: true)
        #expect(json.stdout.contains(#""storeFault":{"ended":null,"failedCommands":"#), "\(json.stdout)")
        unlink(filler)
        var accepted = false
        for _ in 0..<100 where !accepted {
            accepted = (try? daemon.call("io.jointops.Operations.Note", ["id": .string("OP-1"), "text": .string("after")]))?.error == nil
            if !accepted { usleep(50_000) }
        }
        #expect(accepted)
        var ended: JSONValue?
        while ended == nil || ended?["ended"] == .null {
            ended = try watcher.receive().parameters["storeFault"] ?? ended
        }
        #expect(ended?["kind"] == .string("disk_full"))
        #expect(try CommandLineOutputTests.ctl(["board", "--once"], socket: daemon.socket).stdout.contains("STORE FAULT") == false)
        daemon.stop()
    }
}
