import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// `jointopsctl board` built from the watch stream: regions × branches, late steps,
/// escalations — exact output of `--once` and `--json`.
@Suite(.serialized) struct BoardTests {
    @Test func theBoardShowsRegionsBranchesAndLateSteps() throws {
        let daemon = try DaemonHarness(fastAssessment: true)
        func ctl(_ arguments: [String]) throws -> CommandLineOutputTests.Output {
            try CommandLineOutputTests.ctl(arguments, socket: daemon.socket)
        }
        let empty = try ctl(["board", "--once"])
        #expect(empty.status == 0)
        #expect(
            empty.stdout == """
                jointops board  <clock>  0 open · 0 late · 0 escalations (0 unacknowledged)

                REGION  OPEN  LATE  ESCALATIONS  CRIM  ORDER  SWAT  POP  TRAFFIC  OTHER
                TOTAL  0  0  0  0  0  0  0  0  0

                No late steps.

                """)
        // OP-1 in hexi is dispatched (public order + SWAT; traffic to its fixed region); OP-2 in heping misses its assessment.
        for arguments in [
            [
                "start", "armed-response", "--id", "OP-1", "--region", "hexi", "-a", "incident_type=armed_robbery", "-a", "priority=P1",
                "-a", "weapon_involved=true",
            ],
            ["fire", "OP-1", "assess"], ["fire", "OP-1", "dispatch"],
            ["start", "armed-response", "--id", "OP-2", "--region", "heping", "-a", "incident_type=armed_assault", "-a", "priority=P3"],
        ] {
            #expect(try ctl(arguments).status == 0, "\(arguments)")
        }
        var board = try ctl(["board", "--once"])
        for _ in 0..<100 where !board.stdout.contains("1 late") {
            usleep(50_000)
            board = try ctl(["board", "--once"])
        }
        #expect(
            board.stdout == """
                jointops board  <clock>  2 open · 1 late · 1 escalations (1 unacknowledged)

                REGION  OPEN  LATE  ESCALATIONS  CRIM  ORDER  SWAT  POP  TRAFFIC  OTHER
                heping  1  1  1 (1 new)  0  0  0  0  0  0
                hexi  1  0  0  0  1  1  0  0  0
                tj-traffic-command  0  0  0  0  0  0  0  1  0
                TOTAL  2  1  1 (1 new)  0  1  1  0  1  0

                LATE STEPS (P1 first, then the longest late, as jointopsctl overdue)
                OPERATION  PRIORITY  ACKNOWLEDGED  REGION  DEADLINE  BRANCH  MISSED  LADDER
                OP-2  P3  no  heping  assessment  -  <time>  1 rung

                """)
        #expect(try ctl(["acknowledge", "OP-2", "--deadline", "assessment"]).status == 0)
        let json = try ctl(["board", "--json"])
        #expect(json.status == 0)
        let parsed = try JSONParser.parse(json.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let late = parsed["late"]?.arrayValue ?? []
        #expect(late.count == 1)
        #expect(late.first?["operation"] == .string("OP-2"))
        #expect(late.first?["acknowledged"] == .bool(true))
        let regions = parsed["regions"]?.arrayValue ?? []
        #expect(regions.map { $0["region"]?.stringValue ?? "" } == ["heping", "hexi", "tj-traffic-command"])
        #expect(regions[1]["branches"] == .object(["public_order": .int(1), "swat": .int(1)]))
        // Filtered to one region, and a closed operation leaves the board.
        let heping = try ctl(["board", "--once", "--region", "hexi"])
        #expect(heping.stdout.contains("1 open · 0 late"))
        for arguments in [["fire", "OP-2", "assess"], ["fire", "OP-2", "stand_down_early"], ["close", "OP-2", "unfounded"]] {
            #expect(try ctl(arguments).status == 0, "\(arguments)")
        }
        #expect(try ctl(["board", "--once"]).stdout.contains("1 open · 0 late · 0 escalations"))
    }

    /// The live board on a real (pseudo-)terminal 48 columns wide, in colour: every line is
    /// cut to the terminal's width without losing its colours, `q` quits, and the terminal
    /// is given back as it was (cursor shown, main screen).
    @Test func theLiveBoardFitsItsTerminalAndQuitsOnQ() throws {
        let daemon = try DaemonHarness(fastAssessment: true)
        let start = [
            "start", "armed-response", "--id", "OP-LATE", "--region", "heping", "-a", "incident_type=armed_assault", "-a", "priority=P3",
        ]
        #expect(try CommandLineOutputTests.ctl(start, socket: daemon.socket).status == 0)
        for _ in 0..<100 where try !CommandLineOutputTests.ctl(["board", "--once"], socket: daemon.socket).stdout.contains("1 late") {
            usleep(50_000)
        }
        let terminal = try PseudoTerminal(columns: 48, rows: 30)
        let process = CommandLineOutputTests.process(["board"], socket: daemon.socket, environment: ["TERM": "xterm"])
        process.environment?["NO_COLOR"] = nil  // colour, as on a real terminal
        try terminal.run(process)
        var screen = terminal.read(until: "OP-LATE", within: 10)
        terminal.write("q")
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { screen += terminal.read(until: "\u{1B}[?1049l", within: 0.2) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "q quits the board")
        #expect(screen.hasPrefix("\u{1B}[?1049h\u{1B}[?25l"), "the board takes the alternate screen and hides the cursor")
        #expect(screen.hasSuffix("\u{1B}[?25h\u{1B}[?1049l"), "and gives both back: \(screen.debugDescription)")
        let lastDraw = try #require(screen.components(separatedBy: "\u{1B}[H\u{1B}[2J").last)
        // The terminal turns the board's "\r\n" into "\r\r\n" (output processing): lines end at "\n".
        let lines = lastDraw.replacingOccurrences(of: "\u{1B}[?25h\u{1B}[?1049l", with: "").replacingOccurrences(of: "\r", with: "")
            .components(separatedBy: "\n")
        let plain = lines.map(Self.withoutColours)
        #expect(plain.allSatisfy { $0.count <= 48 }, "every line fits 48 columns: \(plain)")
        #expect(plain.contains("REGION  OPEN  LATE  ESCALATIONS  CRIM  ORDER  SW"), "the table is cut, not wrapped: \(plain)")
        #expect(lastDraw.contains("\u{1B}[31m"), "the late counts keep their colour")
        // A line cut inside a colour still ends it, so the next line starts plain.
        for line in lines where line.contains("\u{1B}[31m") { #expect(line.hasSuffix("\u{1B}[0m"), "\(line.debugDescription)") }
    }
}

extension BoardTests {
    /// `text` without its colour changes (ESC [ … m).
    static func withoutColours(_ text: String) -> String {
        var result = ""
        var inEscape = false
        for scalar in text.unicodeScalars {
            if scalar == "\u{1B}" {
                inEscape = true
            } else if inEscape {
                if scalar == "m" { inEscape = false }
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

extension BoardTests {
    /// Reproducer: the wall board quit for good ("jointopsd went away") when jointopsd
    /// restarted — after a crash, a watchdog kill or an upgrade — leaving a stale last frame.
    @Test func theLiveBoardRidesOutARestartOfJointopsd() throws {
        let daemon = try DaemonHarness()
        #expect(try daemon.startArmed("OP-BEFORE").error == nil)
        let terminal = try PseudoTerminal(columns: 120, rows: 40)
        let process = CommandLineOutputTests.process(["board"], socket: daemon.socket, environment: ["TERM": "xterm"])
        try terminal.run(process)
        defer { if process.isRunning { process.terminate() } }
        var screen = terminal.read(until: "1 open", within: 10)
        #expect(screen.contains("1 open"), "\(screen.debugDescription)")
        try daemon.restart(away: 2.5)
        screen = terminal.read(until: "1 open", within: 3)  // (what it drew meanwhile; the board's repaints)
        #expect(screen.contains("jointopsd is away since"), "the board says jointopsd is away: \(screen.debugDescription)")
        #expect(try daemon.startArmed("OP-AFTER").error == nil)
        screen = terminal.read(until: "2 open", within: 10)
        #expect(!screen.components(separatedBy: "\u{1B}[H\u{1B}[2J").last!.contains("is away"), "the banner goes once it is back")
        #expect(process.isRunning, "the board is still up: \(screen.debugDescription)")
        #expect(screen.contains("2 open"), "it follows the restarted daemon: \(screen.debugDescription)")
        terminal.write("q")
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        #expect(!process.isRunning && process.terminationStatus == 0)
        daemon.stop()
    }
}

extension BoardTests {
    /// Reproducer: a board of one region kept an operation reassigned out of it, for good,
    /// under its new region (it never heard of the operation again).
    @Test func aLiveBoardOfOneRegionDropsAnOperationMovedOutOfIt() throws {
        let daemon = try DaemonHarness()
        let start = [
            "start", "armed-response", "--id", "OP-MOVING", "--region", "heping", "-a", "incident_type=armed_assault", "-a", "priority=P3",
        ]
        #expect(try CommandLineOutputTests.ctl(start, socket: daemon.socket).status == 0)
        let terminal = try PseudoTerminal(columns: 120, rows: 40)
        let process = CommandLineOutputTests.process(
            ["board", "--region", "heping"], socket: daemon.socket, environment: ["TERM": "xterm"])
        try terminal.run(process)
        defer { if process.isRunning { process.terminate() } }
        #expect(terminal.read(until: "1 open", within: 10).contains("1 open"))
        #expect(try CommandLineOutputTests.ctl(["reassign", "OP-MOVING", "hedong"], socket: daemon.socket).status == 0)
        let screen = terminal.read(until: "0 open", within: 10)
        #expect(screen.contains("0 open"), "the operation left the heping board: \(screen.debugDescription)")
        terminal.write("q")
        daemon.stop()
    }
}

/// A pseudo-terminal of a given size: `follower` is the terminal a program is given, and the
/// test reads what it draws and types into it from the other side.
final class PseudoTerminal {
    let leader: Int32
    let follower: FileHandle

    deinit { close(leader) }

    init(columns: UInt16, rows: UInt16) throws {
        var leader: Int32 = -1
        var follower: Int32 = -1
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        guard openpty(&leader, &follower, nil, nil, &size) == 0 else {
            throw HarnessError("cannot open a pseudo-terminal: \(String(cString: strerror(errno)))")
        }
        self.leader = leader
        self.follower = FileHandle(fileDescriptor: follower, closeOnDealloc: true)
    }

    /// Starts `process` on this terminal: its input, output and errors.
    func run(_ process: Process) throws {
        process.standardInput = follower
        process.standardOutput = follower
        process.standardError = follower
        try process.run()
    }

    /// What the program wrote, until `marker` appears or `seconds` pass.
    func read(until marker: String, within seconds: Double) -> String {
        var bytes: [UInt8] = []
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline, !String(decoding: bytes, as: UTF8.self).contains(marker) {
            var ready = pollfd(fd: leader, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 50) > 0 else { continue }
            let count = Glibc.read(leader, &buffer, buffer.count)
            guard count > 0 else { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func write(_ text: String) {
        var bytes = Array(text.utf8)
        _ = Glibc.write(leader, &bytes, bytes.count)
    }
}

extension BoardTests {
    /// Reproducer: the live board timed its redraws with the wall clock, so after a step
    /// back of the system clock it drew nothing more — a frozen wall screen — until the
    /// clock caught up again (an hour, for a step of an hour).
    @Test(.enabled(if: WallClockShift.available, "SKIPPED: no C compiler to build the wall-clock shift library"))
    func theLiveBoardGoesOnAfterTheClockStepsBack() throws {
        let daemon = try DaemonHarness()
        #expect(try daemon.startArmed("OP-BEFORE").error == nil)
        let shift = try WallClockShift()
        let terminal = try PseudoTerminal(columns: 120, rows: 40)
        let process = CommandLineOutputTests.process(
            ["board"], socket: daemon.socket, environment: ["TERM": "xterm"].merging(shift.environment) { $1 })
        try terminal.run(process)
        defer { if process.isRunning { process.terminate() } }
        #expect(terminal.read(until: "1 open", within: 10).contains("1 open"))
        try shift.set(seconds: -3600)
        usleep(1_200_000)  // the board reads the stepped clock
        #expect(try daemon.startArmed("OP-AFTER").error == nil)
        let screen = terminal.read(until: "2 open", within: 5)
        #expect(screen.contains("2 open"), "the board still redraws: \(screen.debugDescription)")
        terminal.write("q")
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning, Date() < deadline { usleep(50_000) }
        #expect(!process.isRunning && process.terminationStatus == 0)
        daemon.stop()
    }
}
