import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// One jointopsd per control socket and per state directory: a second one refuses to start
/// and leaves the first reachable; a daemon that died leaves nothing that stops the next.
@Suite(.serialized) struct InstanceTests {
    /// Runs a second jointopsd beside `daemon` with the same settings but for `stateDirectory`
    /// and `socket`, and returns its exit status and what it said (killed after 20 s: one
    /// that runs is the failure these tests look for).
    static func runSecond(beside daemon: DaemonHarness, stateDirectory: String, socket: String) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = DaemonHarness.buildFolder.appendingPathComponent("jointopsd")
        var arguments = daemon.process.arguments ?? []
        for (flag, value) in [("--state-directory", stateDirectory), ("--socket", socket)] {
            let index = try #require(arguments.firstIndex(of: flag))
            arguments[index + 1] = value
        }
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (process.terminationStatus, text)
    }

    static func inode(_ path: String) -> ino_t? {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_ino : nil
    }

    @Test func aSecondDaemonOnALiveSocketRefusesAndLeavesTheFirstReachable() throws {
        let daemon = try DaemonHarness()
        try daemon.startArmed("OP-FIRST")
        let socketBefore = Self.inode(daemon.socket)
        let otherState = daemon.folder.appendingPathComponent("other-state").path
        let second = try Self.runSecond(beside: daemon, stateDirectory: otherState, socket: daemon.socket)
        #expect(second.status == 1, "\(second.output)")
        #expect(
            second.output.contains("another jointopsd is listening on \(daemon.socket); stop it first, or choose another --socket"),
            "\(second.output)")
        // Refused before it made anything in the state directory it was given.
        #expect(!FileManager.default.fileExists(atPath: otherState))
        // The first keeps its socket, and its operators still reach it.
        #expect(Self.inode(daemon.socket) == socketBefore)
        let shown = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-FIRST")])
        #expect(shown.error == nil, "\(shown)")
        #expect(daemon.stop() == 0)
    }

    @Test func aSecondDaemonOnTheSameStateDirectoryRefuses() throws {
        let daemon = try DaemonHarness()
        try daemon.startArmed("OP-FIRST")
        let state = daemon.folder.appendingPathComponent("state").path
        let otherSocket = daemon.folder.appendingPathComponent("other.sock").path
        let second = try Self.runSecond(beside: daemon, stateDirectory: state, socket: otherSocket)
        #expect(second.status == 1, "\(second.output)")
        #expect(
            second.output.contains(
                "another jointopsd (PID \(daemon.process.processIdentifier)) is using \(state); stop it first (systemctl stop jointopsd), or give this one its own --state-directory"
            ), "\(second.output)")
        #expect(!FileManager.default.fileExists(atPath: otherSocket))
        // The first goes on writing.
        let noted = try daemon.call("io.jointops.Operations.Note", ["id": .string("OP-FIRST"), "text": .string("still here")])
        #expect(noted.error == nil, "\(noted)")
        #expect(try daemon.call("io.jointops.Admin.Verify").parameters["intact"] == .bool(true))
    }

    @Test func aDaemonKilledWithoutWarningLeavesNothingThatStopsTheNext() throws {
        let daemon = try DaemonHarness()
        try daemon.startArmed("OP-KILLED")
        kill(daemon.process.processIdentifier, SIGKILL)
        daemon.process.waitUntilExit()
        // Its socket file stays behind (nobody listens on it), its lock went with it.
        #expect(FileManager.default.fileExists(atPath: daemon.socket))
        try daemon.restart()
        let shown = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-KILLED")])
        #expect(shown.error == nil, "\(shown)")
    }

    @Test func theStartLogsTheEventLogHead() throws {
        let daemon = try DaemonHarness()
        try daemon.startArmed("OP-HEAD")
        let verify = try daemon.call("io.jointops.Admin.Verify")
        let hash = try #require(verify.parameters["headHash"]?.stringValue)
        let events = try #require(verify.parameters["eventsChecked"]?.intValue)
        try daemon.restart()
        #expect(daemon.log.contains("event log head: sequence \(events), hash \(hash)"), "\(daemon.log)")
        #expect(try MetricsTests.metrics(daemon).contains("jointops_event_log_tail_intact 1.0"))
    }

    @Test func aChangedByteInARecentEventIsSaidLoudlyAtStart() throws {
        let daemon = try DaemonHarness()
        try daemon.startArmed("OP-EDITED")
        let noted = try daemon.call("io.jointops.Operations.Note", ["id": .string("OP-EDITED"), "text": .string("witness ZQXJ seen")])
        #expect(noted.error == nil, "\(noted)")
        let events = try #require(try daemon.call("io.jointops.Admin.Verify").parameters["eventsChecked"]?.intValue)
        #expect(daemon.stop() == 0)
        // One byte of the note, changed in the file behind the daemon's back (the stop
        // checkpointed everything into it): SQLite's quick_check does not notice.
        let database = daemon.folder.appendingPathComponent("state/jointops.sqlite")
        var bytes = try Data(contentsOf: database)
        let needle = Data("ZQXJ".utf8)
        var changed = 0
        var from = bytes.startIndex
        while let found = bytes.range(of: needle, in: from..<bytes.endIndex) {
            bytes[found.upperBound - 1] = UInt8(ascii: "K")
            from = found.upperBound
            changed += 1
        }
        try #require(changed > 0, "the note is not in the database file")
        try bytes.write(to: database)
        try daemon.restart()
        #expect(
            daemon.log.contains("the event log is broken at event \(events): its content does not match its hash: the row was edited"),
            "\(daemon.log)")
        #expect(daemon.log.contains("take a backup now (jointopsctl admin backup PATH)"))
        // It runs on, and says so where monitoring looks.
        #expect(try MetricsTests.metrics(daemon).contains("jointops_event_log_tail_intact 0.0"))
        let verify = try daemon.call("io.jointops.Admin.Verify")
        #expect(verify.parameters["intact"] == .bool(false))
        #expect(try MetricsTests.metrics(daemon).contains("jointops_event_log_verified_intact 0.0"))
        #expect(try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-EDITED")]).error == nil)
    }
}
