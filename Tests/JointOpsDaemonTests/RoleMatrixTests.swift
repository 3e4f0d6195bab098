import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// Who may do what, with real distinct users the test creates (as root): the whole role ×
/// command matrix through jointopsctl, run as each user with setpriv.
@Suite(.serialized, .enabled(if: getuid() == 0, "SKIPPED: creating test users and switching to them needs root"))
struct RoleMatrixTests {
    /// Test users and the role group each is in (all are in the socket's group).
    static let users: [(name: String, group: String?, role: String)] = [
        ("jotest-u-none", nil, "none"), ("jotest-u-view", "jotest-view", "view"),
        ("jotest-u-operate", "jotest-operate", "operate"), ("jotest-u-admin", "jotest-admin", "admin"),
    ]

    static func run(_ executable: String, _ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (-1, "\(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    static func createUsers() {
        for group in ["jotest-socket", "jotest-view", "jotest-operate", "jotest-admin"] {
            _ = run("/usr/sbin/groupadd", ["-f", group])
        }
        for user in users {
            _ = run("/usr/sbin/userdel", [user.name])
            var arguments = ["--no-create-home", "--no-user-group", "--gid", "jotest-socket", "--shell", "/usr/sbin/nologin", user.name]
            if let group = user.group { arguments += ["--groups", group] }
            let result = run("/usr/sbin/useradd", arguments)
            #expect(result.status == 0, "useradd \(user.name): \(result.output)")
        }
    }

    static func removeUsers() {
        for user in users { _ = run("/usr/sbin/userdel", [user.name]) }
        for group in ["jotest-socket", "jotest-view", "jotest-operate", "jotest-admin"] { _ = run("/usr/sbin/groupdel", [group]) }
    }

    @Test func everyRoleMayDoExactlyWhatItShould() throws {
        Self.createUsers()
        defer { Self.removeUsers() }
        let daemon = try DaemonHarness(
            configuration: """
                groups: {view: jotest-view, operate: jotest-operate, admin: jotest-admin, socket: jotest-socket}
                """)
        #expect(try daemon.startArmed("OP-ROLE").error == nil)
        let ctl = DaemonHarness.buildFolder.appendingPathComponent("jointopsctl").path
        let roster = daemon.folder.appendingPathComponent("more-units.csv")
        try "id,call_sign,branch,home_region\nhx-extra-1,河西增援1,public_order,hexi\n".write(to: roster, atomically: true, encoding: .utf8)
        chmod(roster.path, 0o644)
        // (command, the least role that may run it)
        let matrix: [([String], String)] = [
            (["workflows"], "view"), (["metrics"], "view"), (["list"], "view"), (["show", "OP-ROLE"], "view"),
            (["history", "OP-ROLE"], "view"),
            (["note", "OP-ROLE", "seen"], "operate"), (["escalate", "OP-ROLE", "crowd"], "operate"),
            (["start", "armed-response", "--region", "hexi", "-a", "incident_type=armed_robbery", "-a", "priority=P2"], "operate"),
            (["report", "--from", "1d"], "view"), (["admin", "verify"], "admin"),
            (["admin", "backup", daemon.folder.appendingPathComponent("b.sqlite").path], "admin"),
            (["units", "--region", "hexi-liulin"], "view"), (["regions"], "view"),
            (["units", "change", "hx-jiansh-po-1", "--call-sign", "尖山巡逻1"], "operate"),
            (["units", "import", roster.path], "admin"),
        ]
        let ranks = ["none": 0, "view": 1, "operate": 2, "admin": 3]
        for user in Self.users {
            for (command, required) in matrix {
                let result = Self.run(
                    "/usr/bin/setpriv",
                    ["--reuid=\(user.name)", "--regid=jotest-socket", "--init-groups", ctl] + command + ["--socket", daemon.socket])
                let allowed = ranks[user.role]! >= ranks[required]!
                if allowed {
                    #expect(result.status == 0, "\(user.name) \(command): \(result.output)")
                } else {
                    #expect(result.status == 77, "\(user.name) \(command) should be refused: \(result.output)")
                    #expect(result.output.contains("needs the \(required) role; you have \(user.role)"), "\(result.output)")
                    // The group that gives the role here, as configured (not the default's name).
                    #expect(result.output.contains("add you to the jotest-\(required) group"), "\(result.output)")
                }
            }
        }
        // `set` must change something each time, so each user sets a value of their own.
        for (index, user) in Self.users.enumerated() {
            let result = Self.run(
                "/usr/bin/setpriv",
                ["--reuid=\(user.name)", "--regid=jotest-socket", "--init-groups", ctl, "set", "OP-ROLE", "hostages=\(index + 1)"]
                    + ["--socket", daemon.socket])
            if ranks[user.role]! >= ranks["operate"]! {
                #expect(result.status == 0, "\(user.name) set: \(result.output)")
            } else {
                #expect(result.status == 77, "\(user.name) set should be refused: \(result.output)")
                #expect(result.output.contains("needs the operate role; you have \(user.role)"), "\(result.output)")
            }
        }
        // Every event records who caused it.
        let history = items(try daemon.call("io.jointops.Operations.History", ["id": .string("OP-ROLE")]).parameters["events"])
        let notes = history.filter { $0["kind"] == .string("noted") }
        #expect(notes.count == 2)
        #expect(Set(notes.compactMap { $0["actor"]?["name"]?.stringValue }) == ["jotest-u-operate", "jotest-u-admin"])
        #expect(Set(notes.compactMap { $0["actor"]?["role"]?.stringValue }) == ["operate", "admin"])
        // The socket is 0660 in the socket group: others cannot even connect.
        var info = stat()
        stat(daemon.socket, &info)
        #expect(info.st_mode & 0o777 == 0o660)
        // …and are told which group to join, not to start the daemon (reproducer: "Is it running?").
        let outsider = Self.run(
            "/usr/bin/setpriv",
            ["--reuid=jotest-u-view", "--regid=nogroup", "--clear-groups", ctl, "list", "--socket", daemon.socket])
        #expect(outsider.status == 77, "\(outsider.output)")
        #expect(outsider.output.contains("it is for members of group 'jotest-socket'"), "\(outsider.output)")
        #expect(outsider.output.contains("usermod -aG jotest-socket"), "\(outsider.output)")
    }
    /// Reproducer: the role groups were looked up once, at the start; a group an administrator
    /// created afterwards gave nobody its role until jointopsd restarted, while the refusal
    /// told its members to join the group they were in.
    @Test func aRoleGroupCreatedAfterTheStartCountsWithoutARestart() throws {
        let (user, group) = ("jotest-u-late", "jotest-late-view")
        _ = Self.run("/usr/sbin/groupadd", ["-f", "jotest-socket"])
        _ = Self.run("/usr/sbin/userdel", [user])
        _ = Self.run("/usr/sbin/groupdel", [group])
        defer {
            _ = Self.run("/usr/sbin/userdel", [user])
            _ = Self.run("/usr/sbin/groupdel", [group])
            _ = Self.run("/usr/sbin/groupdel", ["jotest-socket"])
        }
        let created = Self.run(
            "/usr/sbin/useradd", ["--no-create-home", "--no-user-group", "--gid", "jotest-socket", "--shell", "/usr/sbin/nologin", user])
        #expect(created.status == 0, "\(created.output)")
        let daemon = try DaemonHarness(configuration: "groups: {view: \(group), socket: jotest-socket}")
        let ctl = DaemonHarness.buildFolder.appendingPathComponent("jointopsctl").path
        func list() -> (status: Int32, output: String) {
            Self.run(
                "/usr/bin/setpriv", ["--reuid=\(user)", "--regid=jotest-socket", "--init-groups", ctl, "list", "--socket", daemon.socket])
        }
        let before = list()
        #expect(before.status == 77, "\(before.output)")
        #expect(before.output.contains("There is no group \(group) on jointopsd's machine yet"), "\(before.output)")
        #expect(Self.run("/usr/sbin/groupadd", [group]).status == 0)
        #expect(Self.run("/usr/sbin/usermod", ["-aG", group, user]).status == 0)
        let after = list()
        #expect(after.status == 0, "the group counts from the next connection: \(after.output)")
    }
    /// Reproducer: jointopsd read a caller's groups into room for 32; for a caller in more the
    /// read failed, the connection was neither answered nor closed (jointopsctl waited for
    /// ever) and kept its file descriptor, uncounted by any connection limit.
    @Test func aCallerInManyGroupsIsServed() throws {
        let (user, groups) = ("jotest-u-many", (1...40).map { "jotest-many-\($0)" })
        _ = Self.run("/usr/sbin/groupadd", ["-f", "jotest-socket"])
        _ = Self.run("/usr/sbin/userdel", [user])
        for group in groups { _ = Self.run("/usr/sbin/groupadd", ["-f", group]) }
        defer {
            _ = Self.run("/usr/sbin/userdel", [user])
            for group in groups + ["jotest-socket"] { _ = Self.run("/usr/sbin/groupdel", [group]) }
        }
        let created = Self.run(
            "/usr/sbin/useradd",
            [
                "--no-create-home", "--no-user-group", "--gid", "jotest-socket", "--groups", groups.joined(separator: ","), "--shell",
                "/usr/sbin/nologin", user,
            ])
        #expect(created.status == 0, "\(created.output)")
        let daemon = try DaemonHarness(configuration: "groups: {view: jotest-many-40, socket: jotest-socket}")
        let ctl = DaemonHarness.buildFolder.appendingPathComponent("jointopsctl").path
        let listed = Self.run(
            "/usr/bin/timeout",
            ["20", "/usr/bin/setpriv", "--reuid=\(user)", "--regid=jotest-socket", "--init-groups", ctl, "list", "--socket", daemon.socket])
        #expect(listed.status == 0, "the 40th group gives the view role: \(listed.output)")
    }
    /// Reproducer: callers without any role (they may only ask what jointopsd is) could hold
    /// every slot of those with one: four of them with 64 idle connections each locked the
    /// operators out. They have eight connections among them.
    @Test func callersWithoutARoleCannotTakeTheSlotsOfThoseWithOne() throws {
        let (user, viewer) = ("jotest-u-norole", "jotest-u-viewer")
        for group in ["jotest-socket", "jotest-view"] { _ = Self.run("/usr/sbin/groupadd", ["-f", group]) }
        for name in [user, viewer] { _ = Self.run("/usr/sbin/userdel", [name]) }
        defer {
            for name in [user, viewer] { _ = Self.run("/usr/sbin/userdel", [name]) }
            for group in ["jotest-socket", "jotest-view"] { _ = Self.run("/usr/sbin/groupdel", [group]) }
        }
        let base = ["--no-create-home", "--no-user-group", "--gid", "jotest-socket", "--shell", "/usr/sbin/nologin"]
        #expect(Self.run("/usr/sbin/useradd", base + [user]).status == 0)
        #expect(Self.run("/usr/sbin/useradd", base + ["--groups", "jotest-view", viewer]).status == 0)
        let daemon = try DaemonHarness(
            configuration: "groups: {view: jotest-view, socket: jotest-socket}\nmax_connections: 16\nmax_connections_per_user: 12\n")
        // Twelve connections held open, each asking GetInfo: the ninth on are refused.
        let script = """
            import json, socket, sys
            held, answers = [], []
            for _ in range(12):
                s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); held.append(s)
                s.sendall(json.dumps({"method": "org.varlink.service.GetInfo"}).encode() + b"\\0")
                reply = b""
                while not reply.endswith(b"\\0"):
                    chunk = s.recv(65536)
                    if not chunk: break
                    reply += chunk
                answers.append(json.loads(reply[:-1]).get("error", "ok") if reply else "closed")
            print(" ".join(answers))
            """
        let held = Self.run(
            "/usr/bin/setpriv",
            ["--reuid=\(user)", "--regid=jotest-socket", "--init-groups", "/usr/bin/python3", "-c", script, daemon.socket])
        let answers = held.output.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(answers.prefix(8).allSatisfy { $0 == "ok" }, "\(held.output)")
        #expect(answers.dropFirst(8).allSatisfy { $0 == "io.jointops.Operations.TooManyConnections" }, "\(held.output)")
        #expect(daemon.log.contains("no role here"), "the refusal says why")
        let ctl = DaemonHarness.buildFolder.appendingPathComponent("jointopsctl").path
        let listed = Self.run(
            "/usr/bin/setpriv", ["--reuid=\(viewer)", "--regid=jotest-socket", "--init-groups", ctl, "list", "--socket", daemon.socket])
        #expect(listed.status == 0, "\(listed.output)")
    }
}
