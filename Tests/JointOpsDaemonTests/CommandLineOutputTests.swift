import Foundation
import JointOpsCore
import Testing

/// jointopsctl's human output for the main commands, compared exactly (times normalised to
/// `<time>` or `<clock>`, since the daemon stamps events with the real clock), and its exit codes.
@Suite(.serialized) struct CommandLineOutputTests {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// A jointopsctl process as the tests run it (UTC, no colour, this socket), not started yet;
    /// `environment` adds to or overrides that.
    static func process(_ arguments: [String], socket: String, environment extra: [String: String] = [:]) -> Process {
        let process = Process()
        process.executableURL = DaemonHarness.buildFolder.appendingPathComponent("jointopsctl")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["JOINTOPS_SOCKET"] = socket
        environment["TZ"] = "UTC"
        environment["NO_COLOR"] = "1"
        process.environment = environment.merging(extra) { $1 }
        return process
    }

    /// Runs jointopsctl to the end; its output normalised (see `normalise`) unless `raw`.
    static func ctl(
        _ arguments: [String], socket: String, environment: [String: String] = [:], directory: URL? = nil, raw: Bool = false
    ) throws -> Output {
        let process = process(arguments, socket: socket, environment: environment)
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus, stdout: raw ? stdout : normalise(stdout), stderr: raw ? stderr : normalise(stderr))
    }

    /// `2026-11-29 08:00:00 (3m ago)` → `<time>`, a local time alone → `<clock>`, and the
    /// columns padded around them squeezed.
    static func normalise(_ text: String) -> String {
        var result = text.replacingOccurrences(
            of: #"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \([^)]*\)"#, with: "<time>", options: .regularExpression)
        result = result.replacingOccurrences(of: #"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"#, with: "<clock>", options: .regularExpression)
        result = result.replacingOccurrences(of: #" {2,}"#, with: "  ", options: .regularExpression)
        return result.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.replacingOccurrences(of: #"\s+$"#, with: "", options: .regularExpression)
        }.joined(separator: "\n")
    }

    @Test func theMainCommandsPrintExactlyThis() throws {
        let daemon = try DaemonHarness()
        let socket = daemon.socket
        let start = try Self.ctl(
            [
                "start", "armed-response", "--id", "OP-7", "--region", "hexi", "-a", "incident_type=armed_robbery", "-a", "priority=P1",
                "-a", "weapon_involved=true",
            ], socket: socket)
        #expect(start.status == 0)
        #expect(start.stdout == "OP-7: phase reported\n")
        let refused = try Self.ctl(["fire", "OP-7", "dispatch"], socket: socket)
        #expect(refused.status == 1)
        #expect(refused.stdout == "")
        #expect(
            refused.stderr == """
                refused: event 'dispatch' is not accepted in phase 'reported' (it is accepted in 'assessing').
                  phase: reported
                  allowed now: fire assess; reinforce swat | public_order | traffic | criminal_investigation; hold; reassign; set; escalate; note; cancel

                """)
        #expect(try Self.ctl(["fire", "OP-7", "assess"], socket: socket).stdout == "OP-7: phase assessing\n")
        // A dispatch names the units it sent.
        let dispatched = try Self.ctl(["fire", "OP-7", "dispatch"], socket: socket)
        #expect(
            dispatched.stdout
                == "OP-7: phase responding; public_order at dispatched (hx-k9-01, hx-guajia-po-1, hx-guajia-po-2), swat at dispatched (hx-swat-01, hx-swat-02), traffic at dispatched (tj-traffic-01, tj-traffic-02)\n",
            "\(dispatched.stdout)")
        let show = try Self.ctl(["show", "OP-7"], socket: socket)
        #expect(
            show.stdout == """
                OP-7  armed-response v2 — 持械警情处置 / Armed-suspect emergency response
                phase responding  region hexi  priority P1
                started <time>  last change <time>
                attributes: hostages=0  incident_type=armed_robbery  priority=P1  weapon_involved=true

                BRANCH  KIND  STEP  STATUS  REGION  UNITS  SINCE  NEXT
                public_order  public_order  dispatched  active  hexi  3  <time>  on_scene | stood_down
                swat  swat  dispatched  active  hexi  2  <time>  en_route | stood_down | on_scene
                traffic  traffic  dispatched  active  tj-traffic-command  2  <time>  control_points | stood_down

                BRANCH  ASSIGNED UNITS  AWAITING
                public_order  hx-k9-01, hx-guajia-po-1, hx-guajia-po-2
                swat  hx-swat-01, hx-swat-02
                traffic  tj-traffic-01, tj-traffic-02

                TIMER  FOR  DUE
                deadline perimeter  public_order  <time>
                deadline swat_on_scene  swat  <time>
                deadline traffic_control  traffic  <time>

                allowed now: fire contained; advance public_order (at dispatched) to on_scene | stood_down; advance swat (at dispatched) to en_route | stood_down | on_scene; advance traffic (at dispatched) to control_points | stood_down; reinforce swat | public_order | traffic | criminal_investigation; hold; reassign; set; escalate; note; cancel

                """)
        let list = try Self.ctl(["list"], socket: socket)
        #expect(
            list.stdout == """
                ID  WORKFLOW  PHASE  REGION  PRIORITY  BRANCHES  ESCALATIONS  STARTED
                OP-7  armed-response  responding  hexi  P1  3  0  <time>

                """)
        let history = try Self.ctl(["history", "OP-7"], socket: socket)
        #expect(
            history.stdout.hasPrefix(
                """
                #  TIME  WHO  WHAT
                1  <time>  root (admin)  started OP-7 from armed-response v2 in region hexi
                2  <time>  root (admin)  phase → reported (start)
                3  <time>  root (admin)  phase → assessing (event assess)
                """))
        let json = try Self.ctl(["show", "OP-7", "--json"], socket: socket)
        #expect(json.status == 0)
        #expect(try JSONParser.parse(json.stdout.trimmingCharacters(in: .newlines))["operation"]?["phase"] == .string("responding"))
        let missing = try Self.ctl(["show", "OP-404"], socket: socket)
        #expect(missing.status == 2)
        #expect(missing.stderr == "no operation 'OP-404'; 'jointopsctl list --all' shows the operations there are.\n")
        // A pasted id with a space after it, or typed in lower case: the one that exists is named.
        for typed in ["OP-7 ", "op-7"] {
            let near = try Self.ctl(["show", typed], socket: socket)
            #expect(near.status == 2)
            #expect(near.stderr == "no operation '\(typed)'; did you mean 'OP-7'?\n", "\(near.stderr)")
        }
        // The arguments the wrong way round: the operation is among them, and the command in order is given.
        let swapped = try Self.ctl(["fire", "contained", "OP-7"], socket: socket)
        #expect(swapped.status == 2)
        #expect(
            swapped.stderr.hasPrefix(
                "no operation 'contained'; 'OP-7' is one: are the arguments in the wrong order? jointopsctl fire OP-7 contained"),
            "\(swapped.stderr)")
    }

    @Test func aWatchThatCouldNeverMatchSaysWhyAndExits() throws {
        let daemon = try DaemonHarness()
        let unknown = try Self.ctl(["watch", "--operation", "OP-NOPE"], socket: daemon.socket)
        #expect(unknown.status == 2)
        #expect(unknown.stderr == "no operation 'OP-NOPE'; 'jointopsctl list --all' shows the operations there are.\n")
        let branch = try Self.ctl(["watch", "--branch", "swatt"], socket: daemon.socket)
        #expect(branch.status == 64)
        #expect(branch.stderr.hasPrefix("invalid branch: no workflow has a branch 'swatt'; did you mean 'swat'?"), "\(branch.stderr)")
    }

    @Test func usageAndConnectionErrorsHaveTheirOwnExitCodes() throws {
        let usage = try Self.ctl(["advance", "OP-1", "swat"], socket: "/nonexistent.sock")
        #expect(usage.status == 64)
        #expect(usage.stderr.contains("give a step or --outcome, not both and not neither"))
        let twice = try Self.ctl(
            ["start", "armed-response", "--region", "hexi", "-a", "priority=P1", "-a", "priority=P2"], socket: "/nonexistent.sock")
        #expect(twice.status == 64)
        #expect(twice.stderr.hasPrefix("Error: --attribute priority is given twice ('P1' and 'P2'); give it once"), "\(twice.stderr)")
        let down = try Self.ctl(["list"], socket: "/tmp/jointops-no-daemon-\(getpid()).sock")
        #expect(down.status == 69)
        #expect(
            down.stderr == """
                jointopsctl: cannot connect to jointopsd at /tmp/jointops-no-daemon-\(getpid()).sock: No such file or directory.
                  Is it running? systemctl status jointopsd — or start it with 'make run'; pass --socket or set JOINTOPS_SOCKET for another socket.

                """)
        // The installed socket is the service's: start it with systemctl, not `make run`
        // (a developer's command, which an operator at a production console was told to run).
        let installed = "/run/jointops/control.sock"
        if FileManager.default.fileExists(atPath: installed) {
            print("SKIPPED: the installed socket's hint: \(installed) exists on this machine (a jointopsd may answer there)")
        } else {
            let service = try Self.ctl(["list"], socket: installed)
            #expect(service.status == 69)
            #expect(
                service.stderr.hasSuffix(
                    "  Is it running? systemctl status jointopsd; start it with sudo systemctl start jointopsd (enable --now for every boot); pass --socket or set JOINTOPS_SOCKET for another socket.\n"
                ), "\(service.stderr)")
        }
    }
}

extension CommandLineOutputTests {
    /// Reproducer: `acknowledge OP -1` said "give the escalation's number or --deadline, not
    /// both and not neither" (ArgumentParser reads -1 as an option, so no number arrived),
    /// `acknowledge OP abc` that the value is invalid for '<number>', and `acknowledge OP 0`
    /// went to jointopsd. Each says what an escalation number is, and where to find one.
    @Test func anEscalationNumberIsAPositiveWholeNumber() throws {
        let socket = "/tmp/jointops-no-daemon-\(getpid()).sock"
        for (number, arguments) in [
            ("-1", ["acknowledge", "OP-1", "-1"]), ("0", ["acknowledge", "OP-1", "0"]), ("abc", ["acknowledge", "OP-1", "abc"]),
            ("1.5", ["acknowledge", "OP-1", "1.5"]), ("-1", ["acknowledge", "OP-1", "--", "-1"]),
            ("-2", ["acknowledge", "OP-1", "-2", "--deadline", "assessment"]),
        ] {
            let output = try Self.ctl(arguments, socket: socket)
            #expect(output.status == 64, "\(arguments): \(output.stderr)")
            #expect(output.stdout == "")
            #expect(
                output.stderr.hasPrefix(
                    "Error: '\(number)' is not an escalation number: give a positive whole number (1, 2, …) as 'jointopsctl show OP-1' lists them, or --deadline NAME\n"
                ), "\(arguments): \(output.stderr)")
        }
        let neither = try Self.ctl(["acknowledge", "OP-1"], socket: socket)
        #expect(neither.status == 64)
        #expect(
            neither.stderr.hasPrefix("Error: give the escalation's number or --deadline, not both and not neither\n"), "\(neither.stderr)")
        let both = try Self.ctl(["acknowledge", "OP-1", "1", "--deadline", "assessment"], socket: socket)
        #expect(both.status == 64)
        #expect(both.stderr.hasPrefix("Error: give the escalation's number or --deadline, not both and not neither\n"), "\(both.stderr)")
        let one = try Self.ctl(["acknowledge", "OP-1", "1"], socket: socket)
        #expect(one.status == 69, "1 is accepted (then the daemon is not there): \(one.stderr)")
    }
}

extension CommandLineOutputTests {
    @Test func anUnknownCommandGetsAHint() throws {
        let socket = "/nonexistent.sock"
        let typo = try Self.ctl(["shwo", "OP-1"], socket: socket)
        #expect(typo.status == 64)
        #expect(typo.stdout == "")
        #expect(typo.stderr == "Error: unknown command 'shwo' (did you mean 'show'?); 'jointopsctl --help' lists them\n")
        let nested = try Self.ctl(["admin", "bakup", "b.sqlite"], socket: socket)
        #expect(nested.status == 64)
        #expect(nested.stderr == "Error: unknown command 'bakup' (did you mean 'backup'?); 'jointopsctl admin --help' lists them\n")
        let nothingClose = try Self.ctl(["frobnicate"], socket: socket)
        #expect(nothingClose.status == 64)
        #expect(nothingClose.stderr == "Error: unknown command 'frobnicate'; 'jointopsctl --help' lists them\n")
        // A reason of several words, unquoted: its words are extra arguments; the likely cause is said.
        let unquoted = try Self.ctl(["hold", "OP-1", "waiting", "for", "the", "lab"], socket: socket)
        #expect(unquoted.status == 64)
        #expect(unquoted.stderr.hasPrefix("Error: 3 unexpected arguments: 'for', 'the', 'lab'\n"), "\(unquoted.stderr)")
        #expect(
            unquoted.stderr.hasSuffix(
                "  a reason or a text of several words goes in quotes, e.g. jointopsctl hold OP-1 \"waiting for the forensic lab\"\n"),
            "\(unquoted.stderr)")
    }
}

extension CommandLineOutputTests {
    @Test func versionIsTheDaemons() throws {
        let daemon = try DaemonHarness()
        let version = try daemon.call("org.varlink.service.GetInfo").parameters["version"]?.stringValue
        let ctl = try Self.ctl(["--version"], socket: daemon.socket)
        #expect(ctl.status == 0)
        #expect(ctl.stdout == "\(version ?? "?")\n")
    }
}

extension CommandLineOutputTests {
    /// A --socket that names a directory or a regular file says so, instead of "Connection refused".
    @Test func aSocketPathThatIsNoSocketSaysWhatItIs() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("jointops-not-a-socket-\(getpid())")
        try "".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        for (path, what) in [("/tmp", "a directory"), (file.path, "a regular file")] {
            let result = try Self.ctl(["list", "--socket", path], socket: "/nonexistent.sock")
            #expect(result.status == 69)
            #expect(
                result.stderr
                    == "jointopsctl: \(path) is not a socket (it is \(what)); pass the control socket's path, e.g. --socket /run/jointops/control.sock.\n"
            )
        }
    }

    /// JOINTOPS_SOCKET set but empty counts as unset: the default socket, not the path "".
    @Test func anEmptySocketVariableMeansTheDefault() throws {
        let result = try Self.ctl(["list"], socket: "")
        if !FileManager.default.fileExists(atPath: "/run/jointops/control.sock") {
            #expect(result.status == 69)
            #expect(result.stderr.hasPrefix("jointopsctl: cannot connect to jointopsd at /run/jointops/control.sock: "))
        }
        let flag = try Self.ctl(["list", "--socket", ""], socket: "/nonexistent.sock")
        #expect(flag.status == 64)
        #expect(flag.stderr.hasPrefix("Error: --socket is empty; give the control socket's path, or leave it out for the default\n"))
    }
}

extension CommandLineOutputTests {
    /// With --json a connection error is the JSON error object, like the daemon's errors.
    @Test func connectionErrorsUnderJSONAreJSON() throws {
        let socket = "/tmp/jointops-no-daemon-\(getpid()).sock"
        let down = try Self.ctl(["list", "--json"], socket: socket)
        #expect(down.status == 69)
        #expect(down.stderr == "")
        #expect(
            down.stdout
                == #"{"error":"jointopsctl.CannotConnect","parameters":{"path":"\#(socket)","reason":"No such file or directory"}}"# + "\n")
    }
}
