import ArgumentParser
import Foundation
import JointOpsCore
import JointOpsProtocol

/// `jointopsctl watch`: the matching operations as they stand, then every change as a line,
/// riding out restarts of jointopsd (a script's `--json` watch ends with the error instead).
struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Follow operations live: their state now, then every change (Ctrl-C stops).")
    @Option(help: "Only this operation.") var operation: String?
    @Option(help: "Only this region.") var region: String?
    @Option(help: "Only operations with this branch.") var branch: String?
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        var parameters: [String: JSONValue] = [:]
        for (key, value) in [("operation", operation), ("region", region), ("branch", branch)] {
            if let value { parameters[key] = .string(value) }
        }
        let session = Session(options: connection)
        let stream = try session.watch(parameters)
        var client = stream.client
        var shown = 0
        var waiting: VarlinkReply?
        while true {
            let reply: VarlinkReply
            if let first = waiting {
                reply = first
                waiting = nil
            } else {
                do { reply = try client.receive() } catch let failure as VarlinkClient.Failure {
                    // A script (--json) is told and decides; a person's watch goes on.
                    if connection.json { throw session.connectionFailure(failure, watching: true) }
                    (client, waiting) = try followAgain(session, parameters)
                    shown = 0
                    continue
                }
            }
            if let error = reply.error {
                // A restart (a crash, the watchdog, an upgrade) does not end a person's watch.
                guard error == "io.jointops.Operations.DaemonStopping", !connection.json else {
                    throw session.fail(error, reply.parameters)
                }
                (client, waiting) = try followAgain(session, parameters)
                shown = 0
                continue
            }
            let update = session.shown(reply).parameters
            if connection.json {
                print(JSONValue.object(update).canonical)
            } else if update["current"] == .bool(true) {
                // On stderr, so that the stream itself stays the same for a pipe.
                printError(
                    shown == 0
                        ? "watching: no open operation matches yet; changes will show as they happen (Ctrl-C stops)"
                        : "watching: \(shown) open operation\(shown == 1 ? "" : "s") above; changes follow as they happen (Ctrl-C stops)")
            } else if update["ended"] == .bool(true) {
                printError(
                    "watching: \(operation ?? "the operation") has ended, so the watch is over ('jointopsctl history \(operation ?? "ID")' tells it all)"
                )
            } else if let fault = update["storeFault"] {
                let at = fault["ended"].flatMap { $0 == .null ? nil : $0 } ?? fault["since"]
                print("\(Render.clock(at))  \(Render.storeFault(fault))")
            } else if let left = update["left"]?.stringValue {
                print("\(Render.clock(Render.wallClock()))  \(left)  no longer matches this watch (moved out of its region or branch)")
            } else if let event = update["event"] {
                // The local time only: a log line is read later too, when "3m ago" no longer holds.
                print(
                    "\(Render.clock(event["at"]))  \(Render.string(event["operation"]))  \(Render.string(event["description"]))"
                )
            } else if let operation = update["operation"], update["event"] == nil {
                Reply.operation(["operation": operation], connection)
                shown += 1
            }
            fflush(nil)
            if !reply.continues { return }
        }
    }

    /// Waits for jointopsd to come back and watches again: the new connection and its first
    /// reply. The state it then sends stands for what happened meanwhile (history has every
    /// event). A watch of one operation that ended meanwhile is over; another refusal ends
    /// the watch with its error.
    func followAgain(_ session: Session, _ parameters: [String: JSONValue]) throws -> (VarlinkClient, VarlinkReply) {
        printError(
            "watching: jointopsd went away at \(Render.clock(Render.wallClock())); reconnecting until it is back (Ctrl-C stops)")
        var attempt = 0
        while true {
            attempt += 1
            sleep(Session.reconnectDelay(attempt: attempt))
            switch session.rewatch(parameters) {
            case .away:
                continue
            case .following(let client, let first):
                printError(
                    "watching: jointopsd is back; the operations as they stand now follow (changes while it was away: jointopsctl history)")
                return (client, first)
            case .refused(let reply):
                if let operation, reply.error == "io.jointops.Operations.CommandRefused",
                    reply.parameters["code"] == .string(Refusal.Code.operationEnded.rawValue)
                {
                    printError(
                        "watching: \(operation) ended while jointopsd was away, so the watch is over ('jointopsctl history \(operation)' tells it all)"
                    )
                    throw ExitCode.success
                }
                throw session.fail(reply.error!, reply.parameters)
            }
        }
    }
}
