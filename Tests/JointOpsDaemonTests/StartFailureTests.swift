import Foundation
import Testing

@testable import JointOpsDaemon

/// A start that fails for a reason starting again cannot mend exits 78 (EX_CONFIG), or 64
/// (EX_USAGE), which the unit does not restart on — each said with what is wrong, where, and
/// what to do. (Exit 1 under Restart=on-failure looped into systemd's start limit and failed
/// the socket with the service.)
@Suite(.serialized) struct StartFailureTests {
    struct Outcome {
        var status: Int32
        var output: String
        /// What jointopsd told systemd (NOTIFY_SOCKET), one entry per notification.
        var notifications: [String]
    }

    /// A fresh folder in /tmp for one test, removed when done.
    final class Folder {
        let url: URL
        var path: String { url.path }
        init(_ name: String = #function) throws {
            let clean = String(name.filter { $0.isLetter || $0.isNumber }.prefix(24))
            url = URL(fileURLWithPath: "/tmp").appendingPathComponent("jointopsd-start-\(clean)-\(getpid())-\(UUID().uuidString.prefix(6))")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            chmod(url.path, 0o755)
        }
        func appending(_ name: String) -> String { url.appendingPathComponent(name).path }
        deinit { try? FileManager.default.removeItem(at: url) }
    }

    /// Runs jointopsd to its end. `environment` is added to the test's own, from which
    /// anything that would make it think it runs under systemd is taken out first;
    /// `notify` gives it a NOTIFY_SOCKET of the test's, whose messages are returned;
    /// `user` runs it as that user and group (with setpriv; root only).
    static func jointopsd(
        _ arguments: [String], environment: [String: String] = [:], notify: Bool = false, user: (uid: uid_t, gid: gid_t)? = nil
    ) throws -> Outcome {
        var inherited = ProcessInfo.processInfo.environment
        for name in ["INVOCATION_ID", "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "JOURNAL_STREAM", "STATE_DIRECTORY"] {
            inherited[name] = nil
        }
        var notifySocket: CInt = -1
        let notifyPath = "/tmp/jointopsd-notify-\(getpid())-\(UUID().uuidString.prefix(6)).sock"
        if notify {
            notifySocket = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { bytes in
                for (index, byte) in notifyPath.utf8.enumerated() { bytes[index] = byte }
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(notifySocket, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard bound == 0 else { throw HarnessError("cannot bind the notify socket: errno \(errno)") }
            chmod(notifyPath, 0o777)
            inherited["NOTIFY_SOCKET"] = notifyPath
        }
        defer {
            if notifySocket >= 0 {
                close(notifySocket)
                unlink(notifyPath)
            }
        }
        let process = Process()
        let daemon = DaemonHarness.buildFolder.appendingPathComponent("jointopsd").path
        if let user {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=\(user.uid)", "--regid=\(user.gid)", "--clear-groups", daemon] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: daemon)
            process.arguments = arguments
        }
        process.environment = inherited.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        var notifications: [String] = []
        if notifySocket >= 0 {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = recv(notifySocket, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                guard count > 0 else { break }
                notifications.append(String(decoding: buffer[..<count], as: UTF8.self))
            }
        }
        return Outcome(status: process.terminationStatus, output: output, notifications: notifications)
    }

    /// The usual arguments for a daemon in `folder`, with its state in `state`.
    static func arguments(_ folder: Folder, state: String) -> [String] {
        [
            "--config", "/dev/null", "--state-directory", state, "--socket", folder.appending("control.sock"), "--workflows",
            DaemonHarness.root.appendingPathComponent("Workflows").path, "--regions", DaemonHarness.sampleRegions,
        ]
    }

    @Test func aDamagedDatabaseIsAConfigurationErrorNotARestartLoop() throws {
        let folder = try Folder()
        let state = folder.appending("state")
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try Data(repeating: 0x5A, count: 16_384).write(to: URL(fileURLWithPath: state + "/jointops.sqlite"))
        let result = try Self.jointopsd(Self.arguments(folder, state: state))
        // It exited 1: Restart=on-failure tried again and again on a file that stays damaged.
        #expect(result.status == 78, "\(result.output)")
        #expect(
            result.output.contains(
                "jointopsd does not start: opening the store failed: \(state)/jointops.sqlite is damaged or not a jointops database"),
            "\(result.output)")
        #expect(result.output.contains("restore the latest backup (docs/storage.md, \"Restore\")"), "\(result.output)")
    }

    @Test func noWorkflowInKnownRegionsIsAConfigurationError() throws {
        let folder = try Folder()
        let workflows = folder.appending("workflows")
        try FileManager.default.createDirectory(atPath: workflows, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: DaemonHarness.root.appendingPathComponent("Workflows/public-assistance.yaml").path,
            toPath: workflows + "/public-assistance.yaml")
        let regions = folder.appending("regions.yaml")
        try "regions:\n  tianjin: {level: city, name: {zh: 天津市公安局, en: Tianjin}}\n".write(
            toFile: regions, atomically: true, encoding: .utf8)
        let result = try Self.jointopsd([
            "--config", "/dev/null", "--state-directory", folder.appending("state"), "--socket", folder.appending("control.sock"),
            "--workflows", workflows, "--regions", regions,
        ])
        // It exited 1, and so was restarted on a workflows folder nobody had changed.
        #expect(result.status == 78, "\(result.output)")
        #expect(
            result.output.contains("jointopsd does not start: no workflow in \(workflows) names only known regions"), "\(result.output)")
    }

    /// A backup restored with cp as root: the database is root's, mode 0600 (or 0644). It said
    /// "the file or its folder does not exist or is not accessible; create the state
    /// directory…" though both were there, and exited 1 into a restart loop.
    @Test(.enabled(if: getuid() == 0, "SKIPPED: running jointopsd as another user than the file's owner needs root"))
    func aDatabaseOwnedByRootSaysWhoseItIsAndTheChown() throws {
        let folder = try Folder()
        let state = folder.appending("state")
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        let nobody = try #require(getpwnam("nobody")).pointee
        let user = String(cString: nobody.pw_name)
        let group = String(cString: try #require(getgrgid(nobody.pw_gid)).pointee.gr_name)
        chown(state, nobody.pw_uid, nobody.pw_gid)
        let database = state + "/jointops.sqlite"
        try FileManager.default.copyItem(
            at: DaemonHarness.root.appendingPathComponent("Tests/Fixtures/stores/previous-release-0002.sqlite"),
            to: URL(fileURLWithPath: database))
        for (mode, may) in [(0o600, "may not use it"), (0o644, "may read but not write it")] {
            chmod(database, mode_t(mode))
            let result = try Self.jointopsd(Self.arguments(folder, state: state), user: (nobody.pw_uid, nobody.pw_gid))
            #expect(result.status == 78, "\(result.output)")
            #expect(
                result.output.contains(
                    "jointopsd does not start: cannot open \(database): Permission denied — the file belongs to root:root with mode \(String(format: "%04o", mode)), and jointopsd runs as \(user), which \(may) (a backup copied into place as root?). Give the store's files back to jointopsd's user: chown \(user):\(group) \(database)*, then start jointopsd again"
                ), "\(result.output)")
            #expect(!result.output.contains("does not exist"), "\(result.output)")
        }
    }

    /// Under systemd a state directory outside the unit's StateDirectory= is read-only (the
    /// unit's ProtectSystem=strict) until a ReadWritePaths= drop-in opens it: "remount it
    /// read-write" and "The volume is read only" pointed the wrong way. A read-only tmpfs
    /// stands in for the sandbox; INVOCATION_ID and STATE_DIRECTORY for systemd.
    @Test(.enabled(if: getuid() == 0, "SKIPPED: mounting a read-only tmpfs needs root"))
    func aStateDirectoryTheSandboxMakesReadOnlyPointsAtReadWritePaths() throws {
        let folder = try Folder()
        let readOnly = folder.appending("srv")
        try FileManager.default.createDirectory(atPath: readOnly, withIntermediateDirectories: true)
        try Self.mount(["-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", readOnly])
        defer {
            try? Self.mount(["-u", readOnly])
            withExtendedLifetime(folder) {}
        }
        let systemd = ["INVOCATION_ID": "0123456789abcdef0123456789abcdef", "STATE_DIRECTORY": "/var/lib/jointops"]
        let exists = try Self.jointopsd(Self.arguments(folder, state: readOnly), environment: systemd)
        #expect(exists.status == 78, "\(exists.output)")
        #expect(
            exists.output.contains(
                "jointopsd does not start: the state directory \(readOnly) is read-only for jointopsd: the unit's sandbox (ProtectSystem=strict) lets it write only in its StateDirectory, /var/lib/jointops — open the folder to it with a drop-in, systemctl edit jointopsd: [Service] ReadWritePaths=\(readOnly) (docs/configuration.md, state_directory), then: systemctl restart jointopsd"
            ), "\(exists.output)")
        let missing = readOnly + "/jointops"
        let made = try Self.jointopsd(Self.arguments(folder, state: missing), environment: systemd)
        #expect(made.status == 78, "\(made.output)")
        #expect(
            made.output.contains(
                "jointopsd does not start: cannot make the state directory \(missing): the unit's sandbox (ProtectSystem=strict) makes \(readOnly) read-only for jointopsd, which may write only in its StateDirectory, /var/lib/jointops — make the folder yourself (install -d -o root -g root -m 0750 \(missing)), open it to jointopsd with a drop-in, systemctl edit jointopsd: [Service] ReadWritePaths=\(missing)"
            ), "\(made.output)")
        #expect(!made.output.contains("The volume is read only"), "\(made.output)")
        // Run by hand, no sandbox is to blame: the file system is read-only.
        let byHand = try Self.jointopsd(Self.arguments(folder, state: readOnly))
        #expect(byHand.status == 78, "\(byHand.output)")
        #expect(byHand.output.contains("is on a read-only file system; remount it read-write"), "\(byHand.output)")
    }

    /// A usage error loops too unless the unit knows 64 (RestartPreventExitStatus=78 64), and
    /// under systemd its message went only to the journal: STATUS= says it now.
    @Test func aUsageErrorIsSaidInTheStatusUnderSystemd() throws {
        let result = try Self.jointopsd(["--config", "/dev/null", "--log-levle", "debug"], notify: true)
        #expect(result.status == 64, "\(result.output)")
        #expect(
            result.notifications.contains {
                $0.hasPrefix("STATUS=usage error in jointopsd's command line: ") && $0.contains("--log-levle")
                    && $0.contains("systemctl edit jointopsd")
            }, "\(result.notifications)")
        let unit = try String(contentsOf: DaemonHarness.root.appendingPathComponent("systemd/jointopsd.service.in"), encoding: .utf8)
        #expect(unit.split(separator: "\n").contains("RestartPreventExitStatus=78 64"))
    }

    /// Runs mount(8), or umount(8) when the first argument is "-u".
    static func mount(_ arguments: [String]) throws {
        let process = Process()
        let unmount = arguments.first == "-u"
        process.executableURL = URL(fileURLWithPath: unmount ? "/bin/umount" : "/bin/mount")
        process.arguments = unmount ? Array(arguments.dropFirst()) : arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw HarnessError("\(unmount ? "umount" : "mount") \(arguments) failed") }
    }
}
