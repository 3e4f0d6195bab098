import Foundation
import JointOpsCore
import JointOpsProtocol
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

    /// Where every message about the workflows folder says it is set.
    static let workflowsSetting =
        "set workflows: in jointopsd's configuration file (/etc/jointops/jointopsd.yaml as installed), or --workflows on its command line, to the folder that holds them"

    /// `arguments` with the workflows folder `workflows` instead.
    static func arguments(_ folder: Folder, workflows: String) -> [String] {
        var arguments = Self.arguments(folder, state: folder.appending("state"))
        arguments[arguments.firstIndex(of: "--workflows")! + 1] = workflows
        return arguments
    }

    /// Reproducer (an administrators' drill): every problem with the workflows folder was
    /// "cannot read the workflows directory …: <Foundation's words>; create it or point
    /// --workflows at the folder with the workflow files", though the installed unit reads
    /// the folder from `workflows:` in its configuration file. Each case says its own cause.
    @Test func eachProblemWithTheWorkflowsFolderSaysItsCauseAndFix() throws {
        let folder = try Folder()
        let missing = folder.appending("missing")
        let file = folder.appending("armed-response.yaml")
        try FileManager.default.copyItem(
            atPath: DaemonHarness.root.appendingPathComponent("Workflows/armed-response.yaml").path, toPath: file)
        let empty = folder.appending("empty")
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        try Data("notes".utf8).write(to: URL(fileURLWithPath: empty + "/README.txt"))
        let setting = Self.workflowsSetting
        for (workflows, expected) in [
            (
                missing,
                "the workflows folder \(missing) does not exist — create it and put the workflow definitions in it (make install copies the repository's Workflows/ to /etc/jointops/workflows), or \(setting)"
            ),
            (file, "the workflows folder \(file) is a file, not a folder — \(setting)"),
            (
                empty,
                "the workflows folder \(empty) has no workflow file (.yaml or .yml) — put the workflow definitions in it (make install copies the repository's Workflows/ to /etc/jointops/workflows), or \(setting)"
            ),
        ] {
            let result = try Self.jointopsd(Self.arguments(folder, workflows: workflows))
            #expect(result.status == 78, "\(result.output)")
            #expect(result.output.contains("jointopsd does not start: \(expected)\n"), "\(result.output)")
            #expect(!result.output.contains("The operation could not be completed"), "\(result.output)")
        }
    }

    /// Reproducer (an administrators' drill): a workflows folder closed to jointopsd's user
    /// said "…: The operation could not be completed. You don’t have permission.; create it or
    /// point --workflows at the folder" — it exists; it must be made readable for that user.
    @Test(.enabled(if: getuid() == 0, "SKIPPED: running jointopsd as another user than the folder's owner needs root"))
    func aWorkflowsFolderClosedToJointopsdsUserSaysWhoseItIsNotCreateIt() throws {
        let folder = try Folder()
        let nobody = try #require(getpwnam("nobody")).pointee
        let user = String(cString: nobody.pw_name)
        chown(folder.path, nobody.pw_uid, nobody.pw_gid)
        let closed = folder.appending("workflows")
        try FileManager.default.createDirectory(atPath: closed, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            atPath: DaemonHarness.root.appendingPathComponent("Workflows/armed-response.yaml").path,
            toPath: closed + "/armed-response.yaml")
        let above = folder.appending("private")
        let inside = above + "/workflows"
        try FileManager.default.createDirectory(atPath: inside, withIntermediateDirectories: true)
        for (path, mode) in [(closed, 0o700), (above, 0o700), (inside, 0o755)] { chmod(path, mode_t(mode)) }
        for (workflows, expected) in [
            (
                closed,
                "the workflows folder \(closed) is not readable by \(user), the user jointopsd runs as: it belongs to root:root with mode 0700 — make it readable for \(user) (chmod a+rx \(closed)), or \(Self.workflowsSetting)"
            ),
            (
                inside,
                "the workflows folder \(inside) is out of reach of \(user), the user jointopsd runs as: a folder on its path is closed to it (namei -l \(inside) shows each one's owner and mode) — open that folder to \(user) (chmod a+x), or \(Self.workflowsSetting)"
            ),
        ] {
            let result = try Self.jointopsd(Self.arguments(folder, workflows: workflows), user: (nobody.pw_uid, nobody.pw_gid))
            #expect(result.status == 78, "\(result.output)")
            #expect(result.output.contains("jointopsd does not start: \(expected)\n"), "\(result.output)")
            #expect(!result.output.contains("create it"), "\(result.output)")
            #expect(!result.output.contains("permission."), "\(result.output)")
        }
    }

    /// Reproducer (an administrators' drill): every failed start told systemd ERRNO=5 (EIO),
    /// whatever the cause — a damaged or root-owned database, a full disk, an unreadable
    /// folder — so `systemctl status` showed "Error: 5 (Input/output error)" beside the
    /// STATUS= that said the real reason. ERRNO= is sent only when an errno is the cause.
    @Test func aFailedStartTellsSystemdAnErrnoOnlyWhenOneIsTheCause() throws {
        let folder = try Folder()
        let state = folder.appending("state")
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        try Data(repeating: 0x5A, count: 16_384).write(to: URL(fileURLWithPath: state + "/jointops.sqlite"))
        let damaged = try Self.jointopsd(Self.arguments(folder, state: state), notify: true)
        #expect(damaged.status == 78, "\(damaged.output)")
        #expect(
            damaged.notifications.contains {
                $0.hasPrefix("STATUS=failed to start: opening the store failed: \(state)/jointops.sqlite is damaged")
            }, "\(damaged.notifications)")
        #expect(!damaged.notifications.contains { $0.contains("ERRNO=") }, "\(damaged.notifications)")
        let missing = folder.appending("no-workflows")
        let unread = try Self.jointopsd(Self.arguments(folder, workflows: missing), notify: true)
        #expect(unread.status == 78, "\(unread.output)")
        #expect(
            unread.notifications.contains { $0.hasPrefix("STATUS=failed to start: the workflows folder \(missing) does not exist") },
            "\(unread.notifications)")
        #expect(!unread.notifications.contains { $0.contains("ERRNO=") }, "\(unread.notifications)")
        // A system call's error is the cause: its errno is said.
        #expect(Daemon.failureNotification(for: POSIXError(.EADDRINUSE)).hasPrefix("ERRNO=98\nSTATUS=failed to start: "))
        #expect(Daemon.failureNotification(for: DaemonError("a\nb")) == "STATUS=failed to start: a")
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
        try DaemonHarness.mount(["-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", readOnly])
        defer {
            try? DaemonHarness.mount(["-u", readOnly])
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

    /// A listening Unix socket at `path`, as systemd makes one for jointopsd.socket.
    static func listeningSocket(_ path: String) throws -> CInt {
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard let address = UnixSocketAddress(path: path), listener >= 0 else { throw HarnessError("socket: errno \(errno)") }
        guard address.withSockaddr({ bind(listener, $0, $1) }) == 0, listen(listener, 64) == 0 else {
            throw HarnessError("cannot listen on \(path): errno \(errno)")
        }
        return listener
    }

    /// Whether a connection waits in `listener`'s queue, within `milliseconds`.
    static func connectionWaits(_ listener: CInt, within milliseconds: Int32) -> Bool {
        var entry = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, milliseconds) > 0
    }

    /// Runs jointopsd as systemd starts it for jointopsd.socket: `listener` as descriptor 3,
    /// LISTEN_FDS=1, LISTEN_FDNAMES=control and LISTEN_PID its own (set by a shell that then
    /// execs it). Returns its exit status and what it wrote. With `stopWhen`, it is sent
    /// SIGTERM once its log has that text (or after 60 s).
    static func socketActivated(
        _ arguments: [String], listener: CInt, log: String, stopWhen: String? = nil
    ) throws -> (status: Int32, output: String) {
        var environment = ProcessInfo.processInfo.environment
        for name in ["INVOCATION_ID", "NOTIFY_SOCKET", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "JOURNAL_STREAM", "STATE_DIRECTORY"] {
            environment[name] = nil
        }
        environment["LISTEN_FDS"] = "1"
        environment["LISTEN_FDNAMES"] = "control"
        let daemon = DaemonHarness.buildFolder.appendingPathComponent("jointopsd").path
        let argv = ["/bin/sh", "-c", "LISTEN_PID=$$; export LISTEN_PID; exec \"$0\" \"$@\"", daemon] + arguments
        let envp = environment.map { "\($0.key)=\($0.value)" }
        var cArguments = argv.map { strdup($0) } + [nil]
        var cEnvironment = envp.map { strdup($0) } + [nil]
        defer {
            for pointer in cArguments { free(pointer) }
            for pointer in cEnvironment { free(pointer) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // Through a descriptor of its own above 3, so dup2 to 3 also clears close-on-exec.
        let high = fcntl(listener, F_DUPFD_CLOEXEC, 100)
        defer { close(high) }
        posix_spawn_file_actions_adddup2(&actions, high, 3)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, &cArguments, &cEnvironment)
        guard spawned == 0 else { throw HarnessError("posix_spawn: \(spawned)") }
        if let stopWhen {
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline, (try? String(contentsOfFile: log, encoding: .utf8))?.contains(stopWhen) != true { usleep(20_000) }
            kill(pid, SIGTERM)
        }
        var status: CInt = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return ((status >> 8) & 0xff, output)
    }

    /// Reproducer (documentation audit): under systemd `groups.socket` changed nothing — the
    /// socket systemd passes keeps jointopsd.socket's `SocketGroup=` — and nothing said so.
    @Test func aSocketFromSystemdInAnotherGroupThanConfiguredIsSaid() throws {
        let folder = try Folder()
        let socketPath = folder.appending("control.sock")
        let listener = try Self.listeningSocket(socketPath)
        defer { close(listener) }
        var info = stat()
        stat(socketPath, &info)
        // A group that exists on every Debian machine and is not the socket's.
        let wanted = info.st_gid == 1 ? "root" : "daemon"
        let config = folder.appending("jointopsd.yaml")
        try "groups: {socket: \(wanted)}\n".write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try Self.socketActivated(
            [
                "--config", config, "--state-directory", folder.appending("state"), "--workflows",
                DaemonHarness.root.appendingPathComponent("Workflows").path,
            ],
            listener: listener, log: folder.appending("jointopsd.log"), stopWhen: "accepting")
        #expect(daemon.status == 0, "\(daemon.output)")
        #expect(daemon.output.contains("the control socket \(socketPath) is systemd's (jointopsd.socket)"), "\(daemon.output)")
        #expect(daemon.output.contains("add [Socket] SocketGroup=\(wanted), then systemctl restart jointopsd.socket jointopsd"))
    }

    /// Reproducer: under socket activation, with mistakes in jointopsd.yaml, a client left
    /// waiting in the socket made systemd start the failing service 4 times in under a
    /// second, until the socket failed with service-start-limit-hit; and jointopsctl said
    /// "closed the connection … it may be restarting — run the command again". Now the
    /// waiting connections are answered DaemonCannotStart (the first problem, where, what
    /// to do), the queue is left empty, and jointopsctl says it (exit 69).
    @Test func underSocketActivationTheWaitingClientsAreToldWhyItCannotStart() throws {
        let folder = try Folder()
        let socketPath = folder.appending("control.sock")
        let listener = try Self.listeningSocket(socketPath)
        defer { close(listener) }
        let config = folder.appending("jointopsd.yaml")
        try "max_conections: 10\nwatch_bufer: 3\n".write(toFile: config, atomically: true, encoding: .utf8)
        // jointopsctl list, waiting in the queue for jointopsd to start (as systemd keeps it).
        let ctl = Process()
        ctl.executableURL = DaemonHarness.buildFolder.appendingPathComponent("jointopsctl")
        ctl.arguments = ["list", "--socket", socketPath]
        let ctlOutput = Pipe()
        ctl.standardOutput = ctlOutput
        ctl.standardError = ctlOutput
        try ctl.run()
        #expect(Self.connectionWaits(listener, within: 10_000), "jointopsctl never connected")
        // And three clients of the test's own, each with its call sent.
        let clients = try (0..<3).map { _ in try VarlinkClient(socketPath: socketPath, timeout: .seconds(10)) }
        for client in clients { try client.send(VarlinkCall(method: "io.jointops.Operations.List", parameters: [:])) }

        let started = ContinuousClock.now
        let daemon = try Self.socketActivated(
            [
                "--config", config, "--state-directory", folder.appending("state"), "--workflows",
                DaemonHarness.root.appendingPathComponent("Workflows").path,
            ],
            listener: listener, log: folder.appending("jointopsd.log"))
        #expect(daemon.status == 78, "\(daemon.output)")
        #expect(ContinuousClock.now - started < .seconds(5), "answering is bounded (about a second)")
        #expect(daemon.output.contains("answered 4 connections waiting in the socket: jointopsd cannot start"), "\(daemon.output)")
        #expect(
            daemon.output.contains("then: systemctl reset-failed jointopsd jointopsd.socket; systemctl restart jointopsd"),
            "\(daemon.output)")

        let first =
            "\(config):1:1: error: unknown setting 'max_conections'; did you mean 'max_connections'? — correct its name or remove it"
        for client in clients {
            let reply = try client.receive()
            #expect(reply.error == "io.jointops.Operations.DaemonCannotStart", "\(reply)")
            #expect(reply.parameters["reason"] == .string(first), "\(reply)")
            #expect(reply.parameters["file"] == .string(config))
            #expect(reply.parameters["problems"] == .int(2))
            #expect(
                reply.parameters["fix"]?.stringValue?.hasPrefix(
                    "Fix it, then: systemctl reset-failed jointopsd jointopsd.socket; systemctl restart jointopsd") == true, "\(reply)")
        }
        // (Bounded: left waiting in the queue, it would wait for ever.)
        let deadline = Date().addingTimeInterval(15)
        while ctl.isRunning, Date() < deadline { usleep(20_000) }
        if ctl.isRunning { kill(ctl.processIdentifier, SIGKILL) }
        ctl.waitUntilExit()
        let said = String(decoding: ctlOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(ctl.terminationStatus == 69, "\(said)")
        #expect(
            said.hasPrefix(
                "jointopsctl: jointopsd cannot start (the first of 2 problems): \(first).\n  Fix it, then: systemctl reset-failed jointopsd jointopsd.socket; systemctl restart jointopsd"
            ), "\(said)")
        #expect(!said.contains("run the command again"), "\(said)")
        // Nothing is left waiting to start it again.
        #expect(!Self.connectionWaits(listener, within: 0))

        // A mistake in the command line (exit 64) is answered the same way.
        let late = try VarlinkClient(socketPath: socketPath, timeout: .seconds(10))
        try late.send(VarlinkCall(method: "io.jointops.Operations.Workflows", parameters: [:]))
        let usage = try Self.socketActivated(
            ["--config", config, "--log-levle", "x"], listener: listener, log: folder.appending("usage.log"))
        #expect(usage.status == 64, "\(usage.output)")
        let told = try late.receive()
        #expect(told.error == "io.jointops.Operations.DaemonCannotStart", "\(told)")
        #expect(told.parameters["reason"]?.stringValue?.hasPrefix("usage error in jointopsd's command line: ") == true, "\(told)")
        #expect(told.parameters["file"] == .null)
    }

}
