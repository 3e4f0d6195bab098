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
        // Redraws and reconnection attempts are timed on the monotonic clock: timed on the
        // wall clock, a step back of the system clock froze the board for as long as the step.
        // The wall clock is for what the board shows.
        let clock = ContinuousClock()
        var lastDraw: ContinuousClock.Instant?
        var nextTry = clock.now
        var attempt = 0
        var dirty = true
        while true {
            let now = Render.wallClock()
            let tick = clock.now
            if let following = client {
                if following.replyReady(within: 250) {
                    do {
                        let reply = try following.receive()
                        if let error = reply.error, error != "io.jointops.Operations.DaemonStopping" {
                            FullScreen.leave()
                            throw session.fail(error, reply.parameters)
                        }
                        if reply.error != nil { throw VarlinkClient.Failure.disconnected }
                        board.apply(session.shown(reply).parameters)
                    } catch is VarlinkClient.Failure {
                        client = nil
                        board.awaySince = now
                        attempt = 0
                        nextTry = tick
                    }
                    dirty = true
                }
            } else if tick >= nextTry {
                attempt += 1
                nextTry = tick + .seconds(Session.reconnectDelay(attempt: attempt))
                switch session.rewatch(parameters) {
                case .away:
                    break
                case .refused(let reply):
                    FullScreen.leave()
                    throw session.fail(reply.error!, reply.parameters)
                case .following(let again, let first):
                    if let fresh = Self.initialState(from: again, first: first, session) {
                        client = again
                        board = fresh
                        dirty = true
                    }
                }
            } else {
                usleep(100_000)
            }
            if FullScreen.quitRequested() { return }
            let sinceDraw = lastDraw.map { tick - $0 } ?? .seconds(1)
            if (dirty && sinceDraw >= .milliseconds(250)) || sinceDraw >= .seconds(1) {
                FullScreen.draw(board.text(at: now, width: FullScreen.columns))
                lastDraw = tick
                dirty = false
            }
        }
    }

    /// The board a new watch starts with (its replies up to `current`, from `first`, as
    /// `session` shows them), or nil if jointopsd went away again meanwhile.
    static func initialState(from client: VarlinkClient, first: VarlinkReply, _ session: Session) -> BoardState? {
        var board = BoardState()
        var reply = session.shown(first)
        while reply.parameters["current"] != .bool(true) {
            board.apply(reply.parameters)
            guard let next = try? client.receive(), next.error == nil else { return nil }
            reply = session.shown(next)
        }
        return board
    }
}
