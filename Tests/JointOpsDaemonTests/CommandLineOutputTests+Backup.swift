import Foundation
import JointOpsCore
import Testing

extension CommandLineOutputTests {
    /// A relative backup path is the operator's, not the daemon's working directory; an
    /// existing file is kept unless --force.
    @Test func aBackupGoesWhereTheOperatorIsAndKeepsAnExistingFile() throws {
        let daemon = try DaemonHarness()
        let here = daemon.folder.appendingPathComponent("here")
        try FileManager.default.createDirectory(at: here, withIntermediateDirectories: true)
        let target = here.appendingPathComponent("b2.sqlite").path
        let events = try daemon.call("io.jointops.Admin.Verify").parameters["eventsChecked"]?.intValue ?? -1
        let first = try Self.ctl(["admin", "backup", "b2.sqlite"], socket: daemon.socket, directory: here)
        #expect(first.status == 0, "\(first.stderr)")
        // Run from the build folder, no documents are installed beside it: the sources' path.
        #expect(
            first.stdout
                == "backup written to \(target) (\(events) events); restore: docs/storage.md in the jointops sources, \"Restore\"\n")
        #expect(FileManager.default.fileExists(atPath: target))
        let again = try Self.ctl(["admin", "backup", "./b2.sqlite"], socket: daemon.socket, directory: here)
        #expect(again.status == 1)
        #expect(again.stdout == "")
        #expect(again.stderr == "refused: \(target) exists; pass --force to replace it, or pick another name.\n")
        let forced = try Self.ctl(["admin", "backup", "b2.sqlite", "--force"], socket: daemon.socket, directory: here)
        #expect(forced.status == 0, "\(forced.stderr)")
        // Any other client: a relative path is refused, naming the parameter.
        let relative = try daemon.call("io.jointops.Admin.Backup", ["path": .string("b3.sqlite")])
        #expect(relative.error == "org.varlink.service.InvalidParameter")
        #expect(relative.parameters["parameter"] == .string("path"))
        let exists = try daemon.call("io.jointops.Admin.Backup", ["path": .string(target)])
        #expect(exists.error == "io.jointops.Admin.BackupExists")
        #expect(exists.parameters["path"] == .string(target))
        // Never the live database, its WAL, by whatever name, nor its lock or reserve (a backup
        // over the lock let a second jointopsd open the live store); never a directory or a device.
        let live = daemon.folder.appendingPathComponent("state/jointops.sqlite").path
        let link = here.appendingPathComponent("live-link.sqlite").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: live)
        let size = try FileManager.default.attributesOfItem(atPath: live)[.size] as? Int
        let others = [live + "-wal", live + ".lock", live + "-reserve", live + "-journal"]
        for path in [live, daemon.folder.appendingPathComponent("state/../state/jointops.sqlite").path, link] + others {
            let refused = try daemon.call("io.jointops.Admin.Backup", ["path": .string(path), "overwrite": .bool(true)])
            #expect(refused.parameters["parameter"] == .string("path"), "\(path): \(refused)")
            #expect(refused.parameters["description"]?.stringValue?.contains("is the live database") == true, "\(refused)")
        }
        #expect(try FileManager.default.attributesOfItem(atPath: live)[.size] as? Int == size, "the live file is untouched")
        for (path, says) in [(here.path, "is a directory"), ("/dev/null", "is not a regular file")] {
            let refused = try daemon.call("io.jointops.Admin.Backup", ["path": .string(path), "overwrite": .bool(true)])
            #expect(refused.parameters["description"]?.stringValue?.contains(says) == true, "\(path): \(refused)")
        }
        // A folder jointopsd cannot write in is said to be one, with where it can write
        // (reproducer: "the daemon could not store the command … create the state directory").
        let nowhere = try daemon.call("io.jointops.Admin.Backup", ["path": .string("/nonexistent-folder/b.sqlite")])
        #expect(nowhere.parameters["parameter"] == .string("path"))
        let said = nowhere.parameters["description"]?.stringValue ?? ""
        #expect(
            said.contains("there is no folder /nonexistent-folder") && said.contains("back up to \(daemon.folder.path)/state/"), "\(said)")
        // A folder that only looks writable (root passes every access check) gets the same advice.
        let proc = try daemon.call("io.jointops.Admin.Backup", ["path": .string("/proc/b.sqlite")])
        #expect(proc.parameters["parameter"] == .string("path"), "\(proc)")
        #expect(proc.parameters["description"]?.stringValue?.contains("under systemd it may write only in its state directory") == true)
        #expect(daemon.log.contains("backup written to \(target)"), "backups are in the journal: \(daemon.log)")
        #expect(try daemon.call("io.jointops.Admin.Verify").parameters["intact"] == .bool(true))
    }
}

extension CommandLineOutputTests {
    /// Reproducer: `admin backup ''` said the current directory "is a directory" (an empty
    /// path is the current directory to Foundation): it says the path is empty, and what to give.
    @Test func anEmptyBackupPathIsSaidToBeEmpty() throws {
        let daemon = try DaemonHarness()
        let empty = try Self.ctl(["admin", "backup", ""], socket: daemon.socket, directory: daemon.folder)
        #expect(empty.status == 64)
        #expect(empty.stdout == "")
        #expect(
            empty.stderr.hasPrefix(
                "Error: the backup path is empty; give the path of a new file the daemon can write, e.g. /var/lib/jointops/backup.sqlite (under systemd it may write only in /var/lib/jointops)\n"
            ), "\(empty.stderr)")
        #expect(!daemon.log.contains("backup written"), "nothing was written")
    }

    /// Reproducer: the reply named docs/storage.md, a path in the sources, where an installed
    /// jointopsctl has the document in its $(PREFIX)/share/doc/jointops/docs/ (make install's DOCDIR).
    @Test func anInstalledJointopsctlNamesTheInstalledRestoreGuide() throws {
        let daemon = try DaemonHarness(regions: nil)
        let prefix = daemon.folder.appendingPathComponent("prefix")
        let docs = prefix.appendingPathComponent("share/doc/jointops/docs")
        try FileManager.default.createDirectory(at: docs, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: prefix.appendingPathComponent("bin"), withIntermediateDirectories: true)
        try Data("# Storage\n".utf8).write(to: docs.appendingPathComponent("storage.md"))
        let installed = prefix.appendingPathComponent("bin/jointopsctl")
        try FileManager.default.copyItem(at: DaemonHarness.buildFolder.appendingPathComponent("jointopsctl"), to: installed)
        let target = daemon.folder.appendingPathComponent("state/b.sqlite").path
        let process = Self.process(["admin", "backup", target], socket: daemon.socket)
        process.executableURL = installed
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(stdout.hasSuffix("restore: \(docs.path)/storage.md, \"Restore\"\n"), "\(stdout)")
    }
}
