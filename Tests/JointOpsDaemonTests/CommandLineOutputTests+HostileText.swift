import Foundation
import JointOpsCore
import Testing

/// Text any operator can store (a hold reason, a note, an escalation reason, a call sign)
/// reaches every viewer's terminal escaped: it cannot retitle the window, clear the screen,
/// hide the rest of a row, forge a line or reverse text. (Reproducer: all of it was printed raw.)
extension CommandLineOutputTests {
    /// A window title, a screen clear, hidden text, a forged line, the one-byte CSI (0x9B)
    /// and a right-to-left override.
    static let hostile = "\u{1B}]0;PWNED\u{07}\u{1B}[2J\u{1B}[8mHIDDEN\nFAKE LINE\r\u{9B}31m\u{202E}RTL"
    /// `hostile` as jointopsctl shows it.
    static let hostileShown = #"\u{1B}]0;PWNED\u{7}\u{1B}[2J\u{1B}[8mHIDDEN\nFAKE LINE\r\u{9B}31m\u{202E}RTL"#

    /// The characters in `output` that act on a terminal, once jointopsctl's own colours are
    /// taken out: there should be none.
    static func actingCharacters(in output: String) -> [Unicode.Scalar] {
        var text = output
        for own in ["\u{1B}[31m", "\u{1B}[33m", "\u{1B}[1m", "\u{1B}[0m"] { text = text.replacingOccurrences(of: own, with: "") }
        return text.unicodeScalars.filter { $0 != "\n" && TerminalText.acts($0) }
    }

    /// A daemon with OP-X noted, escalated and held with `hostile`, and a unit called so.
    static func daemonWithHostileText() throws -> DaemonHarness {
        let daemon = try DaemonHarness()
        #expect(try daemon.startArmed("OP-X").error == nil)
        for (method, key) in [("Note", "text"), ("Escalate", "reason"), ("Hold", "reason")] {
            let reply = try daemon.call(
                "io.jointops.Operations.\(method)", ["id": .string("OP-X"), key: .string(method.lowercased() + " " + hostile)])
            #expect(reply.error == nil, "\(method): \(reply)")
        }
        // A call sign may hold no control character, but a right-to-left override it may.
        let unit = try daemon.call(
            "io.jointops.Units.Add",
            [
                "id": .string("hx-evil-1"), "callSign": .string("\u{202E}1 tinu"), "branch": .string("swat"),
                "homeRegion": .string("hexi-swat"),
            ])
        #expect(unit.error == nil, "\(unit)")
        return daemon
    }

    @Test func storedHostileTextIsShownEscapedEverywhere() throws {
        let daemon = try Self.daemonWithHostileText()
        let commands = [
            ["show", "OP-X"], ["history", "OP-X"], ["list"], ["overdue"], ["board", "--once"], ["units"], ["report", "operation", "OP-X"],
            ["report", "operation", "OP-X", "--markdown"], ["fire", "OP-X", "dispatch"], ["fire", "OP-X", Self.hostile],
        ]
        var outputs: [String: Output] = [:]
        for arguments in commands {
            let output = try Self.ctl(arguments, socket: daemon.socket, raw: true)
            let both = output.stdout + output.stderr
            #expect(Self.actingCharacters(in: both).isEmpty, "\(arguments): \(both.debugDescription)")
            #expect(!both.contains("\u{1B}"), "\(arguments): no colour under NO_COLOR, none from the store")
            outputs[arguments.joined(separator: " ")] = output
        }
        let show = try #require(outputs["show OP-X"]).stdout
        #expect(show.contains("ON HOLD since"), "\(show)")
        #expect(show.contains(": hold " + Self.hostileShown + "\n"), "\(show)")
        // The escalation row still says it is open, after the reason that tried to hide it.
        #expect(show.split(separator: "\n").contains { $0.contains("escalate " + Self.hostileShown) && $0.hasSuffix("open") }, "\(show)")
        #expect(try #require(outputs["history OP-X"]).stdout.contains("note " + Self.hostileShown), "the note")
        let units = try #require(outputs["units"]).stdout
        #expect(units.split(separator: "\n").contains { $0.hasPrefix("hx-evil-1 ") && $0.contains(#"\u{202E}1 tinu"#) }, "the call sign")
        #expect(try #require(outputs["report operation OP-X"]).stdout.contains("hold " + Self.hostileShown))
        let markdown = try #require(outputs["report operation OP-X --markdown"]).stdout
        #expect(markdown.contains("hold " + MarkdownText.escaped(Self.hostileShown)), "\(markdown)")
        let refused = try #require(outputs["fire OP-X dispatch"])
        #expect(refused.status == 1 && refused.stderr.hasPrefix("refused: "), "\(refused)")
        let unknown = try #require(outputs["fire OP-X \(Self.hostile)"])
        #expect(unknown.stderr.contains(Self.hostileShown), "the event named, escaped: \(unknown)")
        // --json stays exact.
        let json = try Self.ctl(["history", "OP-X", "--json"], socket: daemon.socket, raw: true)
        let events = try JSONParser.parse(json.stdout.trimmingCharacters(in: .newlines))["events"]?.arrayValue ?? []
        #expect(events.contains { $0["description"]?.stringValue?.contains("note " + Self.hostile) == true }, "\(json)")
    }

    /// In colour, on a terminal: jointopsctl's own red reaches it, nothing from the store does.
    @Test func inColourOnlyJointopsctlsOwnColourReachesTheTerminal() throws {
        let daemon = try Self.daemonWithHostileText()
        for arguments in [["show", "OP-X"], ["history", "OP-X"], ["units"]] {
            let terminal = try PseudoTerminal(columns: 400, rows: 50)
            let process = Self.process(arguments, socket: daemon.socket, environment: ["TERM": "xterm"])
            process.environment?["NO_COLOR"] = nil
            try terminal.run(process)
            var screen = ""
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning, Date() < deadline { screen += terminal.read(until: "\u{0}", within: 0.1) }
            screen += terminal.read(until: "\u{0}", within: 0.2)
            process.waitUntilExit()
            #expect(
                screen.contains(arguments == ["units"] ? #"\u{202E}1 tinu"# : Self.hostileShown), "\(arguments): \(screen.debugDescription)"
            )
            // The terminal writes each line end as CR LF.
            #expect(
                Self.actingCharacters(in: screen.replacingOccurrences(of: "\r\n", with: "\n")).isEmpty,
                "\(arguments): \(screen.debugDescription)")
            if arguments == ["show", "OP-X"] {
                #expect(screen.contains("\u{1B}[31mON HOLD since"), "its own colour: \(screen.debugDescription)")
            }
        }
    }

    /// A watch's lines: the event's text and the operation's state, escaped.
    @Test func aWatchShowsStoredTextEscaped() throws {
        let daemon = try DaemonHarness()
        #expect(try daemon.startArmed("OP-WX").error == nil)
        let watch = try BackgroundCtl(["watch", "--operation", "OP-WX"], daemon: daemon)
        #expect(watch.waitForStderr("watching:"), "\(watch.stderr)")
        for (method, key) in [("Note", "text"), ("Hold", "reason")] {
            let reply = try daemon.call("io.jointops.Operations.\(method)", ["id": .string("OP-WX"), key: .string(Self.hostile)])
            #expect(reply.error == nil, "\(method): \(reply)")
        }
        for _ in 0..<200 where !watch.stdout.contains("held: ") { usleep(50_000) }
        let stdout = watch.stdout
        #expect(stdout.contains("<clock>  OP-WX  note: " + Self.hostileShown + "\n"), "\(stdout)")
        #expect(stdout.contains("<clock>  OP-WX  held: " + Self.hostileShown + "\n"), "\(stdout)")
        #expect(Self.actingCharacters(in: stdout + watch.stderr).isEmpty, "\(stdout.debugDescription)")
    }
}
