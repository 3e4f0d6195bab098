import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// A backup is made beside the engine, not in its way: commands are answered while it runs.
@Suite(.serialized) struct BackupWhileWorkingTests {
    /// Reproducer: a backup ran on the engine, so every command — and the watchdog's status
    /// call — waited for it: 0.47 s for a 230 MB store, growing with the store.
    @Test func commandsAreAnsweredWhileABackupIsWritten() throws {
        let daemon = try DaemonHarness()
        try daemon.startArmed("OP-BK")
        daemon.stop()
        // 150 MB of pages the backup must copy (a table jointopsd never reads).
        let database = daemon.folder.appendingPathComponent("state/jointops.sqlite").path
        let pad = Process()
        pad.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        pad.arguments = [
            "python3", "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute('CREATE TABLE padding (b BLOB)');"
                + " c.executemany('INSERT INTO padding VALUES (zeroblob(1048576))', [()]*150); c.commit(); c.close()",
            database,
        ]
        try pad.run()
        pad.waitUntilExit()
        #expect(pad.terminationStatus == 0)
        try daemon.restart()
        let target = daemon.folder.appendingPathComponent("state/backup.sqlite").path
        let backup = try daemon.client()
        try backup.send(VarlinkCall(method: "io.jointops.Admin.Backup", parameters: ["path": .string(target)]))
        usleep(30_000)
        let began = ContinuousClock.now
        let note = try daemon.call("io.jointops.Operations.Note", ["id": .string("OP-BK"), "text": .string("during the backup")])
        let waited = ContinuousClock.now - began
        let backupStillRunning = !backup.replyReady(within: 0)
        #expect(note.error == nil, "\(note)")
        #expect(backupStillRunning, "the note was answered only once the backup was done (after \(waited))")
        let done = try backup.receive()
        #expect(done.error == nil, "\(done)")
        #expect((done.parameters["events"]?.intValue ?? 0) > 0, "\(done.parameters)")
        #expect(FileManager.default.fileExists(atPath: target))
        daemon.stop()
    }
}
