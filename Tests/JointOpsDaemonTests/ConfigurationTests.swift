import Foundation
import Testing

@testable import JointOpsDaemon

/// jointopsd.yaml: each mistake is reported at its place in the file (FILE:LINE:COLUMN) with
/// what is wrong and how to fix it, all of them at once, and nothing is applied.
@Suite struct ConfigurationTests {
    /// A configuration file of its own in /tmp, removed when done.
    final class ConfigurationFile {
        let path: String
        init(_ contents: Data) throws {
            path = "/tmp/jointopsd-config-\(getpid())-\(UUID().uuidString.prefix(8)).yaml"
            try contents.write(to: URL(fileURLWithPath: path))
        }
        convenience init(_ text: String) throws { try self.init(Data(text.utf8)) }
        deinit { unlink(path) }
    }

    /// What applying `yaml` reports (nil: it was accepted), with the file's path.
    static func problems(_ yaml: String) throws -> (path: String, problems: String?) {
        let file = try ConfigurationFile(yaml)
        var settings = DaemonConfiguration()
        do {
            try settings.apply(file: file.path)
            return (file.path, nil)
        } catch {
            return (file.path, "\(error)")
        }
    }

    @Test(arguments: [
        (
            "socket: a: b\n",
            ":1:10: error: YAML syntax error: a second ': ' in one entry, which YAML reads as the start of a mapping; quote a value that contains ': ', e.g. socket: \"a: b\""
        ),
        ("socket: x\nsocket: y\n", ":2:1: error: duplicate key 'socket' (first at line 1)"),
        (
            "watch_interval_ms: 99999999999999999999999\n",
            ":1:20: error: watch_interval_ms is 99999999999999999999999, far outside 0…60000 milliseconds — set a value in that range, or remove the line for the default (50)"
        ),
        (
            "state_directory: \"\"\n",
            ":1:18: error: state_directory is empty — give the folder for jointops.sqlite, or remove the line for the default (/var/lib/jointops)"
        ),
        ("socket: ''\n", ":1:9: error: socket is empty — give the control socket's path"),
        // A NUL was cut at by the system calls, and the error named the shorter path.
        ("workflows: \"/x\\0y\"\n", ":1:12: error: workflows holds a control character (a NUL, tab or line break)"),
        ("workflows:\n", ":1:11: error: workflows is empty"),
        ("units: [a, b]\n", ":1:8: error: units must be the roster file, found a list"),
        (
            "groups: {bogus: x}\n",
            ":1:10: error: unknown key 'bogus' in groups; the keys are: view, operate, admin, socket — groups names the group of each role"
        ),
        (
            "groups: {view: ''}\n",
            ":1:16: error: groups.view is empty — give a group name, or remove the line for the default (jointops-view)"
        ),
        ("groups: [a]\n", ":1:9: error: groups must map view, operate, admin and socket to group names, found a list"),
        (
            "max_message_bytes: 10\n",
            ":1:20: error: max_message_bytes is 10, outside 1024…16777216 bytes (1 KiB to 16 MiB) — set a value in that range, or remove the line for the default (65536)"
        ),
        ("max_message_bytes: 99999999999\n", ":1:20: error: max_message_bytes is 99999999999, outside 1024…16777216 bytes"),
        ("watch_buffer: lots\n", ":1:15: error: watch_buffer must be a whole number, 1…1048576 changes, found 'lots' — write digits only"),
        ("watch_buffer: 1.5\n", ":1:15: error: watch_buffer must be a whole number"),
        ("stalled_message_ms: 5\n", ":1:21: error: stalled_message_ms is 5, outside 100…3600000 milliseconds"),
        ("commit_linger_us: -1\n", ":1:19: error: commit_linger_us is -1, outside 0…100000 microseconds"),
        ("max_connections: 0\n", ":1:18: error: max_connections is 0, outside 1…16384 connections"),
        (
            "max_connections: 8\nadmin_reserved_connections: 8\n",
            ":2:29: error: admin_reserved_connections is 8, but max_connections is 8; it must be less, or no caller without the admin role could connect — lower it to at most 7, or raise max_connections"
        ),
        (
            "max_connections: 8\nmax_connections_per_user: 7\n",
            ":2:27: error: max_connections_per_user is 7, more than callers without the admin role may have together (max_connections 8 less admin_reserved_connections 2) — lower it to at most 6"
        ),
        ("durability: fast\n", ":1:13: error: durability is 'fast'; it must be full or normal — "),
        (
            "max_conections: 3\n",
            ":1:1: error: unknown setting 'max_conections'; did you mean 'max_connections'? — correct its name or remove it"
        ),
        ("- a\n", ":1:1: error: the configuration must be settings, one 'name: value' a line; found a list — "),
        ("metrics_listen: 0.0.0.0:9464\n", ":1:17: error: metrics_listen: "),
        (
            "socket: /tmp/\(String(repeating: "s", count: 120))\n",
            ":1:9: error: socket /tmp/\(String(repeating: "s", count: 120)) is 125 bytes long, more than a Unix socket path may have (107) — use a shorter path, e.g. /run/jointops/control.sock"
        ),
        (
            "log_level: warn\n",
            ":1:12: error: log_level is 'warn', not a log level; did you mean 'warning'? — write one of trace, debug, info, notice, warning, error, critical, or remove the line for the default (info)"
        ),
        ("log_level: loud\n", ":1:12: error: log_level is 'loud', not a log level — write one of trace, debug, info"),
        ("log_level: DEBUG\n", ":1:12: error: log_level is 'DEBUG', not a log level; did you mean 'debug'?"),
        ("log_level: ''\n", ":1:12: error: log_level is empty — give a log level (trace, debug, info, notice, warning, error, critical)"),
    ])
    func eachMistakeIsReportedWhereItIsAndSaysHowToFixIt(yaml: String, expected: String) throws {
        let (path, problems) = try Self.problems(yaml)
        #expect(problems?.hasPrefix(path + expected) == true, "\(problems ?? "accepted")")
    }

    @Test func everyMistakeIsReportedAtOnceAndNothingIsApplied() throws {
        let file = try ConfigurationFile("socket: /tmp/x.sock\nmax_message_bytes: 10\ngroups: {bogus: x}\nwatch_buffer: 0\n")
        var settings = DaemonConfiguration()
        #expect {
            try settings.apply(file: file.path)
        } throws: { error in
            let lines = "\(error)".split(separator: "\n")
            return lines.count == 3 && lines.allSatisfy { $0.hasPrefix(file.path + ":") }
        }
        #expect(settings.socketPath == DaemonConfiguration().socketPath)
    }

    @Test func theExampleConfigurationIsValid() throws {
        var settings = DaemonConfiguration()
        try settings.apply(file: DaemonHarness.root.appendingPathComponent("systemd/jointopsd.yaml").path)
        #expect(settings.unitsFile == "/etc/jointops/units.yaml")
    }

    /// Reproducer: `log_level` was an unknown setting (exit 78), so under systemd the level
    /// needed an ExecStart= override; and `--log-level warn` listed the levels without saying
    /// which was meant. The file's level is used, and the flag overrides it.
    @Test func theLogLevelComesFromTheFileAndTheFlagOverridesIt() throws {
        #expect(try Self.problems("log_level: debug\n").problems == nil)
        let quiet = try DaemonHarness(configuration: "log_level: warning\n", regions: nil)
        quiet.stop()
        #expect(!quiet.log.isEmpty && !quiet.log.contains(" info jointopsd:"), "\(quiet.log)")
        let flagged = try DaemonHarness(configuration: "log_level: warning\n", regions: nil, arguments: ["--log-level", "info"])
        flagged.stop()
        #expect(flagged.log.contains(" info jointopsd: [JointOpsDaemon] listening on "), "\(flagged.log)")
        let typo = try Self.jointopsd(["--config", "/dev/null", "--log-level", "warn"])
        #expect(typo.status == 64, "\(typo.output)")
        #expect(
            typo.output.contains(
                "--log-level is 'warn', not a log level; did you mean 'warning'? — write one of trace, debug, info, notice, warning, error, critical"
            ), "\(typo.output)")
    }

    /// Reproducer (the administrator's review): at log level debug a list and a show left
    /// nothing in the journal but the service lifecycle's start lines.
    @Test func atLogLevelDebugEveryCallIsLoggedWithItsCallerAndResult() throws {
        let daemon = try DaemonHarness(configuration: "log_level: debug\n", regions: nil)
        _ = try daemon.call("io.jointops.Operations.List")
        _ = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-NOWHERE")])
        daemon.stop()
        let user = String(cString: getpwuid(getuid()).pointee.pw_name)
        // Root is admin; another user's role depends on its groups, so only root's is spelled out.
        let by = "by \(user) (uid \(getuid()), " + (getuid() == 0 ? "admin) " : "")
        #expect(daemon.log.contains("call io.jointops.Operations.List \(by)") && daemon.log.contains("answered in "), "\(daemon.log)")
        #expect(
            daemon.log.contains("call io.jointops.Operations.Show \(by)")
                && daemon.log.contains("refused with io.jointops.Operations.OperationNotFound in "),
            "\(daemon.log)")
        let quiet = try DaemonHarness(regions: nil)
        _ = try quiet.call("io.jointops.Operations.List")
        quiet.stop()
        #expect(!quiet.log.contains("call io.jointops.Operations.List"), "not at the default level: \(quiet.log)")
    }

    @Test func aFileWithOnlyCommentsKeepsEveryDefault() throws {
        #expect(try Self.problems("# nothing set\n\n").problems == nil)
        #expect(try Self.problems("").problems == nil)
    }

    @Test func theConnectionLimitsFollowMaxConnectionsUnlessSet() throws {
        let defaults = DaemonConfiguration().connectionLimits
        #expect(defaults == ConnectionLimits(total: 256, perUser: 64, adminReserve: 4))
        var settings = DaemonConfiguration()
        let small = try ConfigurationFile("max_connections: 8\n")
        try settings.apply(file: small.path)
        #expect(settings.connectionLimits == ConnectionLimits(total: 8, perUser: 2, adminReserve: 2))
        let set = try ConfigurationFile("max_connections_per_user: 5\nadmin_reserved_connections: 0\nmax_connections: 10\n")
        try settings.apply(file: set.path)
        #expect(settings.connectionLimits == ConnectionLimits(total: 10, perUser: 5, adminReserve: 0))
    }

    /// Reproducer: with max_connections 8 and admin_reserved_connections 7 the default
    /// max_connections_per_user was 2 (a quarter of 8), more than the one slot callers without
    /// the admin role have together, and outside the range an explicit value is refused for.
    @Test func theDefaultPerUserLimitIsNoMoreThanCallersWithoutTheAdminRoleMayHave() throws {
        var settings = DaemonConfiguration()
        let file = try ConfigurationFile("max_connections: 8\nadmin_reserved_connections: 7\n")
        try settings.apply(file: file.path)
        #expect(settings.connectionLimits == ConnectionLimits(total: 8, perUser: 1, adminReserve: 7))
        // Given, it is still refused outside that range.
        let explicit = try Self.problems("max_connections: 8\nadmin_reserved_connections: 7\nmax_connections_per_user: 2\n")
        #expect(
            explicit.problems?.hasPrefix(
                explicit.path
                    + ":3:27: error: max_connections_per_user is 2, more than callers without the admin role may have together (max_connections 8 less admin_reserved_connections 7) — lower it to at most 1"
            ) == true, "\(explicit.problems ?? "accepted")")
        // Every reserve the file accepts leaves a default of at least 1, at most what is left.
        let outside = (1...64).flatMap { total in
            (0..<total).map { ConnectionLimits(total: total, adminReserve: $0) }.filter {
                !(1...($0.total - $0.adminReserve)).contains($0.perUser)
            }
        }
        #expect(outside.isEmpty, "\(outside)")
    }

    @Test func aFileThatIsNotUTF8SaysSo() throws {
        let file = try ConfigurationFile(Data([0x73, 0x6F, 0x63, 0x6B, 0x65, 0x74, 0x3A, 0x20, 0xFF, 0x0A]))
        var settings = DaemonConfiguration()
        #expect {
            try settings.apply(file: file.path)
        } throws: { error in
            "\(error)" == "\(file.path):1:1: error: not UTF-8 text — save the configuration file as UTF-8"
        }
    }

    /// jointopsd run to its end with `arguments`: its exit status and everything it wrote.
    static func jointopsd(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let outcome = try StartFailureTests.jointopsd(arguments)
        return (outcome.status, outcome.output)
    }

    /// Reproducer: a roster refused at start named the file without a line, and only its
    /// first problem, where `units import` of the same file names every one at its line.
    @Test func aRosterRefusedAtStartNamesEveryProblemAtItsLine() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("roster-start-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let roster = folder.appendingPathComponent("units.yaml")
        try """
        units:
          ok-1: {call_sign: 特警1, branch: swat, home_region: hexi-swat}
          bad-1: {call_sign: "tab\\there", branch: swat, home_region: hexi-swat}
          bad-2: {call_sign: \(String(repeating: "特", count: 65)), branch: swat, home_region: hexi-swat}
        """.write(to: roster, atomically: true, encoding: .utf8)
        let result = try Self.jointopsd([
            "--config", "/dev/null", "--workflows", DaemonHarness.root.appendingPathComponent("Workflows").path, "--regions",
            DaemonHarness.sampleRegions, "--units", roster.path, "--state-directory", folder.appendingPathComponent("state").path,
            "--socket", folder.appendingPathComponent("s.sock").path,
        ])
        #expect(result.status == 78, "\(result.output)")
        #expect(
            result.output.contains("\(roster.path):3:3: error: the call sign of unit 'bad-1' contains a control character"),
            "\(result.output)")
        #expect(result.output.contains("\(roster.path):4:3: error: the call sign of unit 'bad-2' is longer than 64"), "\(result.output)")
    }

    @Test func jointopsdNamesTheFileOfAMistakeAndAnEmptyFlag() throws {
        let file = try ConfigurationFile("max_connections: 10\nsocket: a: b\n")
        let run = Self.jointopsd
        let syntax = try run(["--config", file.path])
        // 78 (EX_CONFIG): the unit does not restart on it (RestartPreventExitStatus=78), since
        // a mistake in the file cannot mend itself; before, systemd retried until its start limit.
        #expect(syntax.status == 78)
        #expect(syntax.output.contains("\(file.path):2:10: error: YAML syntax error"), "\(syntax.output)")
        #expect(syntax.output.contains("jointopsd does not start: a mistake in \(file.path); correct it"), "\(syntax.output)")
        let missing = try run(["--config", "/nonexistent/jointopsd.yaml"])
        #expect(missing.status == 78)
        #expect(missing.output.contains("jointopsd does not start: no configuration file; create it"), "\(missing.output)")
        // What the configuration points at is configuration too: a folder without a valid
        // workflow cannot mend itself either (it restarted in a loop under systemd).
        let bare = FileManager.default.temporaryDirectory.appendingPathComponent("no-workflows-\(getpid())")
        try FileManager.default.createDirectory(at: bare, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: bare) }
        let state = bare.appendingPathComponent("state").path
        let none = try run([
            "--config", "/dev/null", "--workflows", bare.path, "--state-directory", state, "--socket",
            bare.appendingPathComponent("s.sock").path,
        ])
        #expect(none.status == 78, "\(none.output)")
        #expect(none.output.contains("has no workflow file (.yaml or .yml)"), "\(none.output)")
        let empty = try run(["--config", "/dev/null", "--socket", ""])
        #expect(empty.status != 0)
        #expect(empty.output.contains("--socket is empty"), "\(empty.output)")
        // Reproducers (a fuzzer of the settings): these exited 1, so systemd restarted in a
        // loop on a mistake only an administrator can mend, and said it in Foundation's or
        // NIO's words ("UnixDomainSocketPathWrongType()", "NSCocoaErrorDomain error 256").
        let plain = bare.appendingPathComponent("a-file")
        try Data().write(to: plain)
        let workflows = DaemonHarness.root.appendingPathComponent("Workflows").path
        let socket = bare.appendingPathComponent("s.sock").path
        for (arguments, expected) in [
            (["--socket", bare.path], "the socket path \(bare.path) is a directory: set socket (--socket) to a path of its own"),
            (["--state-directory", plain.path, "--socket", socket], "cannot make the folder \(plain.path): it is a file, not a folder"),
            (
                ["--workflows", plain.path, "--socket", socket],
                "the workflows folder \(plain.path) is a file, not a folder"
            ),
        ] {
            var full = ["--config", "/dev/null", "--regions", DaemonHarness.sampleRegions, "--state-directory", state]
            if !arguments.contains("--workflows") { full += ["--workflows", workflows] }
            let result = try run(full + arguments)
            #expect(result.status == 78, "\(arguments): \(result.output)")
            #expect(result.output.contains(expected), "\(arguments): \(result.output)")
        }
    }

    /// Reproducer (a documentation audit): a flag's value the configuration file's check
    /// would refuse — a metrics address not on loopback, without a port or malformed, a
    /// socket path too long for a Unix socket — stopped the start later, as a configuration
    /// error (exit 78, "jointopsd does not start: …"), though --help and docs/configuration.md
    /// say a mistake in the command line exits 64. Now it is a usage error naming the flag,
    /// said before anything is read or made.
    @Test func aFlagsValueTheFileWouldRefuseIsAUsageErrorNamingTheFlag() throws {
        let folder = try StartFailureTests.Folder()
        let state = folder.appending("state")
        let long = "/tmp/" + String(repeating: "s", count: 120)
        for (flags, expected) in [
            (
                ["--metrics-listen", "0.0.0.0:9464"],
                "--metrics-listen: metrics listen address '0.0.0.0:9464' is not a loopback address: the metrics listener has no authentication and no TLS"
            ),
            (["--metrics-listen", "127.0.0.1"], "--metrics-listen: metrics listen address '127.0.0.1' has no port: write 127.0.0.1:PORT"),
            (
                ["--metrics-listen", "::1:19466"],
                "--metrics-listen: metrics listen address '::1:19466': put an IPv6 address in brackets, [::1]:PORT"
            ),
            (
                ["--socket", long],
                "--socket \(long) is 125 bytes long, more than a Unix socket path may have (107) — use a shorter path, e.g. /run/jointops/control.sock"
            ),
            (
                ["--state-directory", "/tmp/state\tx"],
                "--state-directory holds a control character (a NUL, tab or line break); give the path without it"
            ),
            (
                ["--durability", "bogus"],
                "--durability is 'bogus'; it must be full or normal — full syncs each commit before answering; see docs/storage.md before choosing normal"
            ),
        ] {
            var arguments = StartFailureTests.arguments(folder, state: state)
            arguments += flags
            let result = try Self.jointopsd(arguments)
            #expect(result.status == 64, "\(flags): \(result.output)")
            #expect(result.output.contains("Error: \(expected)"), "\(flags): \(result.output)")
            #expect(result.output.contains("Usage: jointopsd"), "\(flags): \(result.output)")
            #expect(!result.output.contains("does not start"), "\(flags): \(result.output)")
            #expect(!FileManager.default.fileExists(atPath: state), "\(flags): nothing is made")
        }
        // Before the configuration file is read: the command line is wrong whatever the file says.
        let file = try ConfigurationFile("watch_buffer: 0\n")
        let both = try Self.jointopsd(["--config", file.path, "--metrics-listen", "0.0.0.0:9464"])
        #expect(both.status == 64, "\(both.output)")
        #expect(both.output.contains("Error: --metrics-listen: "), "\(both.output)")
    }

    /// Reproducer (a documentation audit): a `socket:` too long for a Unix socket was not
    /// among the file's problems; once they were mended it stopped the start alone, as a
    /// critical line without its place in the file.
    @Test func aSocketPathTooLongIsAmongTheFilesProblemsAtItsPlace() throws {
        let long = "/tmp/" + String(repeating: "s", count: 120)
        let file = try ConfigurationFile("socket: \(long)\nwatch_buffer: 0\n")
        let result = try Self.jointopsd(["--config", file.path])
        #expect(result.status == 78, "\(result.output)")
        #expect(
            result.output.contains(
                "\(file.path):1:9: error: socket \(long) is 125 bytes long, more than a Unix socket path may have (107) — use a shorter path, e.g. /run/jointops/control.sock"
            ), "\(result.output)")
        #expect(result.output.contains("\(file.path):2:15: error: watch_buffer is 0"), "\(result.output)")
        #expect(result.output.contains("jointopsd does not start: 2 mistakes in \(file.path); correct it"), "\(result.output)")
        // 107 bytes fit (sun_path's 108 with the closing NUL); 108 do not.
        #expect(try Self.problems("socket: /tmp/\(String(repeating: "s", count: 102))\n").problems == nil)
        let over = try Self.problems("socket: /tmp/\(String(repeating: "s", count: 103))\n").problems
        #expect(over?.contains(" is 108 bytes long, more than a Unix socket path may have (107)") == true, "\(over ?? "accepted")")
    }
}
