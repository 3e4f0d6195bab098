import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// A backup is made beside the engine, not in its way: commands are answered while it runs.
@Suite(.serialized) struct BackupWhileWorkingTests {
    /// Reproducer: a backup ran on the engine, so every command — and the watchdog's status
    /// call — waited for it: 0.47 s for a 230 MB store, growing with the store.
    @Test func commandsAreAnsweredWhileABackupIsWritten() throws {
        let daemon = try Self.daemonWithABigStore()
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

    /// Reproducer (a scale audit): backups and verifies ran on the threads operators' reads
    /// use off the engine, as many at once as there are cores; two verifies of a 3.8 GB store
    /// held a Show of a closed operation 16.5 s. They now take turns on a thread of their own.
    @Test func aReadOfTheStoreIsAnsweredWhileBackupsAreWritten() throws {
        let daemon = try Self.daemonWithABigStore()
        #expect(try daemon.call("io.jointops.Operations.Cancel", ["id": .string("OP-BK"), "reason": .string("duplicate")]).error == nil)
        let backups = try (1...4).map { number in
            let client = try daemon.client()
            let target = daemon.folder.appendingPathComponent("state/backup-\(number).sqlite").path
            try client.send(VarlinkCall(method: "io.jointops.Admin.Backup", parameters: ["path": .string(target)]))
            return client
        }
        usleep(30_000)
        let began = ContinuousClock.now
        let show = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-BK")])  // read from the store: it has ended
        let waited = ContinuousClock.now - began
        let stillRunning = backups.filter { !$0.replyReady(within: 0) }.count
        #expect(show.error == nil, "\(show)")
        #expect(stillRunning == 4, "the Show was answered only once a backup was done (after \(waited))")
        for client in backups { #expect(try client.receive().error == nil) }
        daemon.stop()
    }

    /// A daemon with one armed operation, OP-BK, and 150 MB more in its store for a backup to copy.
    static func daemonWithABigStore() throws -> DaemonHarness {
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
        return daemon
    }
}
