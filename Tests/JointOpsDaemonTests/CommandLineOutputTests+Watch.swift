import Foundation
import JointOpsCore
import Testing

/// jointopsctl running in the background (a watch), its output going to files in `folder`
/// so that a test can wait for a line; killed when dropped if it still runs.
final class BackgroundCtl {
    let process: Process
    private let out: URL
    private let err: URL

    init(_ arguments: [String], daemon: DaemonHarness) throws {
        process = CommandLineOutputTests.process(arguments, socket: daemon.socket)
        let name = UUID().uuidString.prefix(6)
        out = daemon.folder.appendingPathComponent("ctl-\(name).out")
        err = daemon.folder.appendingPathComponent("ctl-\(name).err")
        for file in [out, err] { _ = FileManager.default.createFile(atPath: file.path, contents: nil) }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
    }

    var stdout: String { CommandLineOutputTests.normalise((try? String(contentsOf: out, encoding: .utf8)) ?? "") }
    var stderr: String { CommandLineOutputTests.normalise((try? String(contentsOf: err, encoding: .utf8)) ?? "") }

    /// Waits up to 10 s for stderr to contain `text`.
    func waitForStderr(_ text: String) -> Bool {
        for _ in 0..<200 {
            if stderr.contains(text) { return true }
            usleep(50_000)
        }
        return false
    }

    /// Waits up to 10 s for the process to exit; its status, or nil if it still runs.
    func exitStatus() -> Int32? {
        for _ in 0..<200 {
            if !process.isRunning { return process.terminationStatus }
            usleep(50_000)
        }
        return nil
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

extension CommandLineOutputTests {
    /// A live log is read later too: each event shows its local time, no "3m ago" that would
    /// be computed once, at the start, and never move on.
    @Test func watchPrintsEachEventAtItsLocalTimeOnly() throws {
        let daemon = try DaemonHarness()
        #expect(try daemon.startArmed("OP-W").error == nil)
        let watch = try BackgroundCtl(["watch", "--operation", "OP-W"], daemon: daemon)
        #expect(watch.waitForStderr("watching:"), "\(watch.stderr)")
        #expect(try Self.ctl(["fire", "OP-W", "assess"], socket: daemon.socket).status == 0)
        #expect(try Self.ctl(["cancel", "OP-W", "false_alarm"], socket: daemon.socket).status == 0)
        #expect(watch.exitStatus() == 0)
        #expect(
            watch.stdout == """
                OP-W: phase reported
                <clock>  OP-W  phase → assessing (event assess)
                OP-W: phase assessing
                <clock>  OP-W  cancelled: false_alarm
                OP-W: phase cancelled

                """)
    }
}

extension CommandLineOutputTests {
    /// A watch rides out a restart of jointopsd (a crash, the watchdog, an upgrade): it says
    /// the daemon went away, reconnects once it is back, and goes on with the state as it now
    /// stands. (Reproducer: it ended with "start it again", and a watch left on a screen died.)
    @Test func aWatchRidesOutARestartOfJointopsd() throws {
        let daemon = try DaemonHarness()
        let watch = try BackgroundCtl(["watch"], daemon: daemon)
        #expect(watch.waitForStderr("watching:"), "\(watch.stderr)")
        try daemon.restart()
        #expect(watch.waitForStderr("jointopsd is back"), "\(watch.stderr)")
        #expect(try daemon.startArmed("OP-AFTER").error == nil)
        var shown = false
        for _ in 0..<200 where !shown {
            shown = watch.stdout.contains("OP-AFTER")
            if !shown { usleep(50_000) }
        }
        #expect(shown, "the watch goes on after the restart: \(watch.stdout)")
        #expect(watch.process.isRunning)
        #expect(
            watch.stderr.hasPrefix(
                """
                watching: no open operation matches yet; changes will show as they happen (Ctrl-C stops)
                watching: jointopsd went away at <clock>; reconnecting until it is back (Ctrl-C stops)
                watching: jointopsd is back; the operations as they stand now follow (changes while it was away: jointopsctl history)
                """), "\(watch.stderr)")
        daemon.stop()
    }

    /// A script's watch (--json) is told that jointopsd stopped, and decides for itself:
    /// it ends (exit 69) with the error object, rather than reconnecting behind its back.
    @Test func aJSONWatchWhoseDaemonStopsEndsWithTheError() throws {
        let daemon = try DaemonHarness()
        let watch = try BackgroundCtl(["watch", "--json"], daemon: daemon)
        for _ in 0..<200 where !watch.stdout.contains(#""current":true"#) { usleep(50_000) }
        daemon.stop()
        #expect(watch.exitStatus() == 69)
        #expect(watch.stdout.contains(#"{"error":"io.jointops.Operations.DaemonStopping""#), "\(watch.stdout)")
    }
}
