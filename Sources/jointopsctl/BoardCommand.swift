import ArgumentParser
import Foundation
import JointOpsCore
import JointOpsProtocol

/// `jointopsctl board`: a live full-terminal view like `top` for a command center's wall
/// screen — regions × branches, open operations, late steps, escalations — kept current
/// from the watch stream.
struct Board: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Live wall-screen view: open operations, late steps and escalations by region × branch (q or Ctrl-C quits).",
        discussion: "On a terminal it redraws in place on every change and each second; --once prints the board once and exits.")

    @Option(help: "Only operations in this region (or with a branch there).") var region: String?
    @Flag(help: "Print the board once and exit (for scripts and logs).") var once = false
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        var parameters: [String: JSONValue] = [:]
        if let region { parameters["region"] = .string(region) }
        let session = Session(options: connection)
        let stream = try session.watch(parameters)
        var board = BoardState()
        // The initial state: every matching operation, then the `current` marker.
        while true {
            let reply = try stream.next()
            if reply.parameters["current"] == .bool(true) { break }
            board.apply(reply.parameters)
        }
        let live = !once && !connection.json && isatty(STDOUT_FILENO) == 1
        guard live else {
            print(connection.json ? board.json(at: Render.now).canonical : board.text(at: Render.now, width: Int.max))
            return
        }
        FullScreen.enter()
        defer { FullScreen.leave() }
        // A wall screen outlives jointopsd's restarts: when the stream ends, the board says
        // since when jointopsd is away, keeps what it last knew, and follows again once it is back.
        var client: VarlinkClient? = stream.client
        var lastDraw = Instant(milliseconds: 0)
        var nextTry = Instant(milliseconds: 0)
        var attempt = 0
        var dirty = true
        while true {
            let now = Render.wallClock()
            if let following = client {
                if following.replyReady(within: 250) {
                    do {
                        let reply = try following.receive()
                        if let error = reply.error, error != "io.jointops.Operations.DaemonStopping" {
                            FullScreen.leave()
                            throw session.fail(error, reply.parameters)
                        }
                        if reply.error != nil { throw VarlinkClient.Failure.disconnected }
                        board.apply(reply.parameters)
                    } catch is VarlinkClient.Failure {
                        client = nil
                        board.awaySince = now
                        attempt = 0
                        nextTry = now
                    }
                    dirty = true
                }
            } else if now >= nextTry {
                attempt += 1
                nextTry = now + Int64(Session.reconnectDelay(attempt: attempt)) * 1000
                switch session.rewatch(parameters) {
                case .away:
                    break
                case .refused(let reply):
                    FullScreen.leave()
                    throw session.fail(reply.error!, reply.parameters)
                case .following(let again, let first):
                    if let fresh = Self.initialState(from: again, first: first) {
                        client = again
                        board = fresh
                        dirty = true
                    }
                }
            } else {
                usleep(100_000)
            }
            if FullScreen.quitRequested() { return }
            if (dirty && now.since(lastDraw) >= 250) || now.since(lastDraw) >= 1000 {
                FullScreen.draw(board.text(at: now, width: FullScreen.columns))
                lastDraw = now
                dirty = false
            }
        }
    }

    /// The board a new watch starts with (its replies up to `current`, from `first`), or nil
    /// if jointopsd went away again meanwhile.
    static func initialState(from client: VarlinkClient, first: VarlinkReply) -> BoardState? {
        var board = BoardState()
        var reply = first
        while reply.parameters["current"] != .bool(true) {
            board.apply(reply.parameters)
            guard let next = try? client.receive(), next.error == nil else { return nil }
            reply = next
        }
        return board
    }
}

/// The board's model: the open operations as the watch stream last described them.
struct BoardState {
    static let kinds = ["criminal_investigation", "public_order", "swat", "population", "traffic"]
    static let headers = ["CRIM", "ORDER", "SWAT", "POP", "TRAFFIC"]

    private(set) var operations: [String: JSONValue] = [:]
    /// The store's fault while it lasts (commands are refused meanwhile).
    private(set) var storeFault: JSONValue?
    /// Since when jointopsd is away (the watch ended): what the board shows is as it stood then.
    var awaySince: Instant?

    mutating func apply(_ reply: [String: JSONValue]) {
        if let left = reply["left"]?.stringValue {
            operations[left] = nil  // moved out of the board's region
            return
        }
        if let fault = reply["storeFault"] {
            storeFault = fault["ended"].map { $0 == .null } ?? true ? fault : nil
            return
        }
        guard let operation = reply["operation"], let id = operation["id"]?.stringValue else { return }
        let phase = operation["phase"]?.stringValue
        operations[id] = phase == "closed" || phase == "cancelled" ? nil : operation
    }

    struct Row {
        var region: String
        var open = 0
        var late = 0
        var escalations = 0
        var unacknowledged = 0
        var branches: [String: Int] = [:]
    }

    struct Late {
        var operation: String
        var region: String
        var deadline: String
        var instance: String?
        var missedAt: JSONValue?
        var rungsFired: Int64
        var acknowledged: Bool
    }

    /// Rows by region (the operation's, and each active branch's own), and every late step, latest first.
    func summary() -> (rows: [Row], late: [Late]) {
        var rows: [String: Row] = [:]
        var late: [Late] = []
        for operation in operations.values {
            let region = Render.string(operation["region"])
            rows[region, default: Row(region: region)].open += 1
            for branch in Render.array(operation["branches"]) where branch["status"] == .string("active") {
                let branchRegion = Render.string(branch["region"])
                rows[branchRegion, default: Row(region: branchRegion)].branches[Render.string(branch["kind"]), default: 0] += 1
            }
            for escalation in Render.array(operation["escalations"]) where escalation["resolvedAt"] == .null {
                let acknowledged = escalation["acknowledgedAt"] != .null
                rows[region, default: Row(region: region)].escalations += 1
                if !acknowledged { rows[region, default: Row(region: region)].unacknowledged += 1 }
                guard let deadline = escalation["deadline"]?.stringValue else { continue }
                rows[region, default: Row(region: region)].late += 1
                late.append(
                    Late(
                        operation: Render.string(operation["id"]), region: region, deadline: deadline,
                        instance: escalation["instance"]?.stringValue, missedAt: escalation["openedAt"],
                        rungsFired: escalation["rungsFired"]?.intValue ?? 0, acknowledged: acknowledged))
            }
        }
        late.sort { ($0.missedAt?.stringValue ?? "", $0.operation) > ($1.missedAt?.stringValue ?? "", $1.operation) }
        return (rows.values.sorted { $0.region < $1.region }, late)
    }

    func text(at now: Instant, width: Int) -> String {
        let (rows, late) = summary()
        let total = rows.reduce(into: Row(region: "TOTAL")) { total, row in
            total.open += row.open
            total.late += row.late
            total.escalations += row.escalations
            total.unacknowledged += row.unacknowledged
            for (kind, count) in row.branches { total.branches[kind, default: 0] += count }
        }
        func cells(_ row: Row) -> [String] {
            [
                row.region, String(row.open), row.late > 0 ? Render.red(String(row.late)) : "0",
                row.unacknowledged > 0 ? Render.red("\(row.escalations) (\(row.unacknowledged) new)") : String(row.escalations),
            ]
                + Self.kinds.map { String(row.branches[$0] ?? 0) }
                + [String(row.branches.filter { !Self.kinds.contains($0.key) }.values.reduce(0, +))]
        }
        var lines = [
            Render.bold("jointops board") + "  \(Render.clock(now))  "
                + "\(total.open) open · \(total.late) late · \(total.escalations) escalations (\(total.unacknowledged) unacknowledged)",
            "",
        ]
        if let awaySince {
            lines += [
                Render.red("jointopsd is away since \(Render.clock(awaySince)) (restarting?): reconnecting every second")
                    + " — what follows is as it stood then",
                "",
            ]
        }
        if let storeFault { lines += [Render.storeFault(storeFault), ""] }
        lines += Render.table(["REGION", "OPEN", "LATE", "ESCALATIONS"] + Self.headers + ["OTHER"], rows.map(cells) + [cells(total)])
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.append("")
        if late.isEmpty {
            lines.append("No late steps.")
        } else {
            lines.append(Render.bold("LATE STEPS") + " (latest first)")
            let lateRows = late.map { step in
                [
                    step.operation, step.region, step.instance ?? "operation", step.deadline, Render.time(step.missedAt, now: now),
                    "\(step.rungsFired) rung\(step.rungsFired == 1 ? "" : "s")",
                    step.acknowledged ? "acknowledged" : Render.red("NOT acknowledged"),
                ]
            }
            lines += Render.table(["OPERATION", "REGION", "BRANCH", "DEADLINE", "MISSED", "LADDER", "STATUS"], lateRows)
                .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        }
        return lines.map { Render.clipped($0, toColumns: width) }.joined(separator: "\n")
    }

    func json(at now: Instant) -> JSONValue {
        let (rows, late) = summary()
        return .object([
            "at": .string(ISO8601.format(now)),
            "storeFault": storeFault ?? .null,
            "regions": .array(
                rows.map { row in
                    .object([
                        "region": .string(row.region), "open": .int(Int64(row.open)), "late": .int(Int64(row.late)),
                        "escalations": .int(Int64(row.escalations)), "unacknowledged": .int(Int64(row.unacknowledged)),
                        "branches": .object(row.branches.mapValues { .int(Int64($0)) }),
                    ])
                }),
            "late": .array(
                late.map { step in
                    .object([
                        "operation": .string(step.operation), "region": .string(step.region), "deadline": .string(step.deadline),
                        "instance": step.instance.map(JSONValue.string) ?? .null, "missedAt": step.missedAt ?? .null,
                        "rungsFired": .int(step.rungsFired), "acknowledged": .bool(step.acknowledged),
                    ])
                }),
        ])
    }
}

/// The terminal as a screen: the alternate buffer, no cursor, raw keys for `q`; restored
/// on every way out (q, Ctrl-C, SIGTERM).
enum FullScreen {
    nonisolated(unsafe) private static var saved = termios()
    nonisolated(unsafe) private static var entered = false

    static var columns: Int {
        var size = winsize()
        return ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 0 ? Int(size.ws_col) : 120
    }

    static func enter() {
        tcgetattr(STDIN_FILENO, &saved)
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &raw)
        for signal in [SIGINT, SIGTERM] {
            Foundation.signal(signal) { _ in
                FullScreen.leave()
                _exit(0)
            }
        }
        entered = true
        write("\u{1B}[?1049h\u{1B}[?25l")
    }

    /// Gives the terminal back; a second call does nothing (an error leaves early, to be
    /// printed on the normal screen, and the `defer` comes after).
    static func leave() {
        guard entered else { return }
        entered = false
        write("\u{1B}[?25h\u{1B}[?1049l")
        tcsetattr(STDIN_FILENO, TCSANOW, &saved)
    }

    static func draw(_ text: String) {
        write("\u{1B}[H\u{1B}[2J" + text.replacingOccurrences(of: "\n", with: "\r\n"))
    }

    /// Whether `q` was pressed (reads what is waiting on stdin without blocking).
    static func quitRequested() -> Bool {
        var input = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
        guard poll(&input, 1, 0) > 0 else { return false }
        var byte: UInt8 = 0
        return read(STDIN_FILENO, &byte, 1) == 1 && (byte == UInt8(ascii: "q") || byte == 3)
    }

    private static func write(_ text: String) {
        var bytes = Array(text.utf8)
        _ = Glibc.write(STDOUT_FILENO, &bytes, bytes.count)
    }
}
