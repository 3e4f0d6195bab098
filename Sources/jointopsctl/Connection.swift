import ArgumentParser
import Foundation
import JointOpsCore
import JointOpsProtocol

/// Options every daemon command shares.
struct ConnectionOptions: ParsableArguments {
    static let defaultSocket = "/run/jointops/control.sock"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The control socket.", discussion: "Default: $JOINTOPS_SOCKET (an empty one counts as unset), else \(defaultSocket)."))
    var socket: String?

    @Flag(
        name: .long,
        help: ArgumentHelp(
            "Print the daemon's reply as JSON (for scripts).",
            discussion: """
                Errors too, on stdout as {"error": NAME, "parameters": {…}}: the daemon's Varlink errors, \
                jointopsctl.CannotConnect (path, reason) or jointopsctl.Disconnected (path) when jointopsd cannot be reached, \
                and jointopsctl.PermissionDenied (path, group) when the socket is not yours to use.
                """))
    var json = false

    /// --socket, else $JOINTOPS_SOCKET unless it is empty (`JOINTOPS_SOCKET= cmd` means "no
    /// socket of my own", not "the socket named ''"), else the default.
    var socketPath: String {
        if let socket { return socket }
        if let variable = ProcessInfo.processInfo.environment["JOINTOPS_SOCKET"], !variable.isEmpty { return variable }
        return Self.defaultSocket
    }

    func validate() throws {
        if socket?.isEmpty == true {
            throw ValidationError("--socket is empty; give the control socket's path, or leave it out for the default")
        }
    }
}

/// Documented exit codes: each kind of failure has its own.
enum Exit {
    static let refused: Int32 = 1
    static let notFound: Int32 = 2
    static let notConfigured: Int32 = 3
    static let usage: Int32 = 64
    static let cannotConnect: Int32 = 69
    static let storage: Int32 = 74
    static let tooSlow: Int32 = 75
    static let permissionDenied: Int32 = 77
}

/// One conversation with the daemon, with the error handling every command shares.
struct Session {
    let options: ConnectionOptions

    /// Calls a method. Commands that change state carry a request id and are retried once,
    /// with the same id, if the connection drops: the daemon applies them at most once.
    /// The reply is exact under --json, else its text is escaped (`TerminalText`); `lines` are
    /// its texts of several lines, escaped line by line.
    func call(
        _ method: String, _ parameters: [String: JSONValue], retrying: Bool = false, lines: [String] = []
    ) throws -> [String: JSONValue] {
        var parameters = parameters
        if retrying, parameters["requestId"] == nil {
            // JOINTOPS_REQUEST_ID repeats a command whose answer was lost (see connectionFailure).
            let given = ProcessInfo.processInfo.environment["JOINTOPS_REQUEST_ID"].flatMap { $0.isEmpty ? nil : $0 }
            parameters["requestId"] = .string(given ?? UUID().uuidString.lowercased())
        }
        var attempts = 0
        while true {
            attempts += 1
            do {
                let reply = try VarlinkClient(socketPath: options.socketPath).call(method, parameters)
                if let error = reply.error { throw fail(error, reply.parameters, sent: parameters) }
                guard !options.json else { return reply.parameters }
                var shown = TerminalText.escaped(reply.parameters)
                for key in lines { shown[key] = reply.parameters[key]?.stringValue.map { .string(TerminalText.escapedLines($0)) } }
                return shown
            } catch VarlinkClient.Failure.disconnected where retrying && attempts < 2 {
                continue
            } catch let failure as VarlinkClient.Failure {
                throw connectionFailure(failure, requestID: parameters["requestId"]?.stringValue)
            }
        }
    }

    /// `reply` as this run shows it: exact under --json, else with jointopsd's text escaped
    /// (`TerminalText`), its error name too.
    func shown(_ reply: VarlinkReply) -> VarlinkReply {
        guard !options.json else { return reply }
        return VarlinkReply(
            parameters: TerminalText.escaped(reply.parameters), error: reply.error.map(TerminalText.escaped), continues: reply.continues)
    }

    /// Opens `io.jointops.Operations.Watch` (with more): the matching operations, a
    /// `current` marker, then every change.
    func watch(_ parameters: [String: JSONValue]) throws -> WatchStream {
        do {
            let client = try VarlinkClient(socketPath: options.socketPath)
            try client.send(VarlinkCall(method: "io.jointops.Operations.Watch", parameters: parameters, more: true))
            return WatchStream(client: client, session: self)
        } catch let failure as VarlinkClient.Failure {
            throw connectionFailure(failure, watching: true)
        }
    }

    /// What trying to follow again after jointopsd went away came to.
    enum Reopening {
        /// jointopsd answered the watch: its connection, and its first reply (not an error).
        case following(VarlinkClient, first: VarlinkReply)
        /// jointopsd is not (yet) back: try again later.
        case away
        /// jointopsd is back and refused the watch (a role taken away, the operation ended): an error reply.
        case refused(VarlinkReply)
    }

    /// Opens the watch again after jointopsd went away (a restart: a crash, the watchdog, an
    /// upgrade), for `watch` and the live `board`; nothing is printed.
    func rewatch(_ parameters: [String: JSONValue]) -> Reopening {
        do {
            // Bounded: under socket activation the connection is accepted before jointopsd is up.
            let client = try VarlinkClient(socketPath: options.socketPath, timeout: .seconds(5))
            try client.send(VarlinkCall(method: "io.jointops.Operations.Watch", parameters: parameters, more: true))
            let first = try client.receive()
            guard first.error == nil else {
                // Stopping again already: as good as away.
                return first.error == "io.jointops.Operations.DaemonStopping" ? .away : .refused(first)
            }
            client.setReceiveTimeout(nil)
            return .following(client, first: first)
        } catch {
            return .away
        }
    }

    /// Seconds to wait before reconnecting attempt `number` (from 1): every second at first,
    /// then every 5 s once jointopsd has stayed away for about 10 s (under socket activation
    /// each try starts it, and a broken start should not be tried every second).
    static func reconnectDelay(attempt number: Int) -> UInt32 { number <= 10 ? 1 : 5 }

    /// Says why jointopsd cannot be reached, or went away, and returns exit 69; under --json as
    /// the error object other errors print, named jointopsctl.CannotConnect (path, reason) or
    /// jointopsctl.Disconnected (path). A watch that loses the daemon is started again, so
    /// `watching` changes the advice: "run the command again" fits commands only.
    /// `requestID` is the id a command that changes state was sent with: whether it was
    /// applied cannot be known, but repeating it with that id is safe.
    func connectionFailure(_ failure: VarlinkClient.Failure, watching: Bool = false, requestID: String? = nil) -> any Error {
        let name: String
        let parameters: [String: JSONValue]
        let message: String
        switch failure {
        case .cannotConnect(let path, _) where Self.mayNotUse(path):
            let group = Self.socketGroup(at: path)
            let advice =
                "jointopsctl: you may not use jointopsd's socket \(path) (permission denied): it is for members of group '\(group)'.\n  Ask an administrator to add you (usermod -aG \(group) $USER), then log in again."
            if options.json {
                printJSONError("jointopsctl.PermissionDenied", ["path": .string(path), "group": .string(group)])
            } else {
                printError(advice)
            }
            return ExitCode(Exit.permissionDenied)
        case .cannotConnect(let path, let reason):
            let what = Self.nonSocket(at: path)
            name = "jointopsctl.CannotConnect"
            parameters = ["path": .string(path), "reason": .string(what.map { "not a socket (it is \($0))" } ?? reason)]
            message =
                what.map {
                    "jointopsctl: \(path) is not a socket (it is \($0)); pass the control socket's path, e.g. --socket \(ConnectionOptions.defaultSocket)."
                }
                ?? (path.utf8.count > UnixSocketAddress.maxPathBytes
                    ? "jointopsctl: the socket path \(path.prefix(60))… is \(path.utf8.count) bytes long, more than a Unix socket path may be (\(UnixSocketAddress.maxPathBytes)); pass the control socket's path, e.g. --socket \(ConnectionOptions.defaultSocket)."
                    : nil)
                ?? "jointopsctl: cannot connect to jointopsd at \(path): \(reason).\n  \(Self.startAdvice(for: path))"
        case .disconnected:
            name = "jointopsctl.Disconnected"
            var known: [String: JSONValue] = ["path": .string(options.socketPath)]
            if let requestID { known["requestId"] = .string(requestID) }
            parameters = known
            if watching {
                message =
                    "jointopsctl: jointopsd went away, so the watch stopped (it may be restarting); start it again once jointopsd is back (systemctl status jointopsd)."
            } else if let requestID {
                // A new run would carry a new request id and could apply the command twice.
                message =
                    "jointopsctl: jointopsd closed the connection before answering (it may be restarting), so whether the command was applied is not known.\n  To finish it safely, run the same command again as JOINTOPS_REQUEST_ID=\(requestID) jointopsctl …: if it was applied, you get its result and nothing happens twice."
            } else {
                message = "jointopsctl: jointopsd closed the connection before answering; it may be restarting — run the command again."
            }
        }
        if options.json { printJSONError(name, parameters) } else { printError(message) }
        return ExitCode(Exit.cannotConnect)
    }

    /// An error under --json: `{"error": NAME, "parameters": {…}}` on stdout, like a Varlink error reply.
    func printJSONError(_ name: String, _ parameters: [String: JSONValue]) {
        print(JSONValue.object(["error": .string(name), "parameters": .object(parameters)]).canonical)
    }

    /// Whether the caller may not use the socket at `path` (it, or a folder on its way, refuses).
    /// What to do when nothing answers at `path`: the installed socket is the service's, which
    /// systemd starts; another is most likely a daemon run by hand (`make run`).
    static func startAdvice(for path: String) -> String {
        path == ConnectionOptions.defaultSocket
            ? "Is it running? systemctl status jointopsd; start it with sudo systemctl start jointopsd (enable --now for every boot); pass --socket or set JOINTOPS_SOCKET for another socket."
            : "Is it running? systemctl status jointopsd — or start it with 'make run'; pass --socket or set JOINTOPS_SOCKET for another socket."
    }

    static func mayNotUse(_ path: String) -> Bool { access(path, R_OK | W_OK) != 0 && errno == EACCES }

    /// The group whose members may use the socket: its own, unless that is root's (a socket
    /// a test or a hand-started daemon made), or hidden by a folder; then jointops, as installed.
    static func socketGroup(at path: String) -> String {
        var info = stat()
        guard stat(path, &info) == 0, info.st_gid != 0, let group = getgrgid(info.st_gid) else { return "jointops" }
        return String(cString: group.pointee.gr_name)
    }

    /// What is at `path` if something is there but not a socket: "a directory", "a regular file".
    static func nonSocket(at path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFSOCK: return nil
        case S_IFDIR: return "a directory"
        case S_IFREG: return "a regular file"
        default: return "neither a socket nor a regular file"
        }
    }

    /// What the caller may have meant by the operation `id` that does not exist: the id with
    /// the spaces around it trimmed or in upper case (a pasted id, a tired hand), or another of
    /// the command's own arguments, given where the operation goes (`fire assess OP-1`). Asked
    /// of jointopsd, so only an operation that exists is named.
    func similarOperation(to id: String) -> String? {
        func exists(_ candidate: String) -> Bool {
            let reply = try? VarlinkClient(socketPath: options.socketPath).call("io.jointops.Operations.Show", ["id": .string(candidate)])
            return reply.map { $0.error == nil } ?? false
        }
        let trimmed = id.trimmingCharacters(in: .whitespacesAndNewlines)
        for candidate in [trimmed, trimmed.uppercased()] where candidate != id && !candidate.isEmpty && exists(candidate) {
            return "did you mean '\(candidate)'?"
        }
        // Words of the command line, not options or their values, other than the id itself.
        let arguments = Array(CommandLine.arguments.dropFirst())
        var words: [Int] = []
        for (index, argument) in arguments.enumerated() where !argument.hasPrefix("-") && argument != id {
            if index > 0, arguments[index - 1].hasPrefix("--"), !arguments[index - 1].contains("=") { continue }
            words.append(index)
        }
        guard let idIndex = arguments.firstIndex(of: id) else { return nil }
        for index in words.suffix(4) where exists(arguments[index]) {
            var swapped = arguments
            swapped.swapAt(index, idIndex)
            return
                "'\(arguments[index])' is one: are the arguments in the wrong order? jointopsctl \(swapped.map(Render.shellQuoted).joined(separator: " "))"
        }
        return nil
    }

    /// Prints a Varlink error as advice and returns the exit code that goes with it.
    /// `sent` are the call's parameters, when known: a parameter jointopsd asks for that the
    /// call did not carry is said to be needed, not invalid.
    /// The error's text is escaped (`TerminalText`) before it is shown.
    func fail(_ name: String, _ parameters: [String: JSONValue], sent: [String: JSONValue]? = nil) -> any Error {
        if options.json { printJSONError(name, parameters) }
        // The id as given, to ask jointopsd about ids near it; everything shown, escaped.
        let givenID = parameters["id"]?.stringValue ?? ""
        let name = TerminalText.escaped(name)
        let parameters = TerminalText.escaped(parameters)
        func text(_ key: String) -> String { parameters[key]?.stringValue ?? "" }
        switch name {
        case "io.jointops.Operations.CommandRefused":
            if !options.json {
                let reason = Render.localTimes(in: text("reason"))
                // A reason that ends in its own punctuation ("did you mean 'x'?") gets no full stop.
                let stop = reason.last.map { ".?!".contains($0) } == true ? "" : "."
                printError("refused: \(reason)\(stop)\n  phase: \(text("phase"))")
                if case .array(let allowed)? = parameters["allowed"], !allowed.isEmpty {
                    printError("  allowed now: " + allowed.compactMap(\.stringValue).joined(separator: "; "))
                }
            }
            return ExitCode(Exit.refused)
        case "io.jointops.Operations.OperationExists":
            if !options.json {
                printError("refused: operation \(text("id")) already exists; choose another id or leave --id out to get one generated.")
            }
            return ExitCode(Exit.refused)
        case "io.jointops.Operations.OperationNotFound":
            if !options.json {
                let hint =
                    similarOperation(to: givenID).map(TerminalText.escaped) ?? "'jointopsctl list --all' shows the operations there are."
                printError("no operation '\(text("id"))'; \(hint)")
            }
            return ExitCode(Exit.notFound)
        case "io.jointops.Operations.WorkflowNotFound":
            if !options.json {
                var known: [String] = []
                if case .array(let items)? = parameters["known"] { known = items.compactMap(\.stringValue) }
                printError(
                    "no workflow \(text("workflow"))\(Suggestions.hint(for: text("workflow"), in: known, noun: "loaded workflows")); 'jointopsctl workflows' lists them."
                )
            }
            return ExitCode(Exit.notFound)
        case "io.jointops.Operations.PermissionDenied", "io.jointops.Admin.PermissionDenied":
            if !options.json {
                let group = parameters["group"]?.stringValue ?? "jointops-\(text("required"))"
                let fix =
                    parameters["groupExists"] == .bool(false)
                    ? "There is no group \(group) on jointopsd's machine yet: ask an administrator to create it (groupadd \(group)) and add you to it (usermod -aG \(group) USER), then log in again; jointopsd need not restart."
                    : "Ask an administrator to add you to the \(group) group, then log in again."
                printError("permission denied: \(text("method")) needs the \(text("required")) role; you have \(text("role")). \(fix)")
            }
            return ExitCode(Exit.permissionDenied)
        case "io.jointops.Operations.StorageFailure", "io.jointops.Admin.StorageFailure":
            if !options.json { printError("the daemon could not store the command, so nothing was applied: \(text("message"))") }
            return ExitCode(Exit.storage)
        case "io.jointops.Operations.WatcherTooSlow":
            if !options.json {
                printError(
                    "watch stopped: this terminal fell \(parameters["buffered"]?.intValue ?? 0) updates behind; run the command again (narrow it with --operation, --region or --branch)."
                )
            }
            return ExitCode(Exit.tooSlow)
        case "io.jointops.Admin.ReloadFailed":
            if !options.json {
                printError("reload failed; \(ReloadWording.kept). Fix these and reload again:")
                for problem in Render.array(parameters["problems"]).compactMap(\.stringValue) { printError("  " + problem) }
            }
            return ExitCode(Exit.refused)
        case "io.jointops.Admin.BackupExists":
            if !options.json { printError("refused: \(text("path")) exists; pass --force to replace it, or pick another name.") }
            return ExitCode(Exit.refused)
        case "io.jointops.Units.UnitRefused":
            if !options.json { printError("refused: \(text("reason"))") }
            // No such unit is "not found", as no such operation or workflow is.
            return ExitCode(text("code") == "unknown_unit" ? Exit.notFound : Exit.refused)
        case "io.jointops.Operations.DaemonStopping":
            if !options.json {
                printError(
                    "jointopsctl: jointopsd is stopping (systemctl stop or restart), so the watch ended; start it again once jointopsd is back."
                )
            }
            return ExitCode(Exit.cannotConnect)
        case "io.jointops.Operations.DaemonCannotStart":
            // Under socket activation: jointopsd gave up starting (a mistake in its configuration,
            // say) and told the connections waiting for it why, instead of leaving them to
            // start it again and again.
            if !options.json {
                let reason = Render.localTimes(in: text("reason"))
                let stop = reason.last.map { ".?!".contains($0) } == true ? "" : "."
                let count = parameters["problems"]?.intValue ?? 1
                let fix =
                    text("fix").isEmpty
                    ? "Fix it, then: systemctl reset-failed jointopsd jointopsd.socket; systemctl restart jointopsd" : text("fix")
                printError(
                    "jointopsctl: jointopsd cannot start\(count > 1 ? " (the first of \(count) problems)" : ""): \(reason)\(stop)\n  \(fix)"
                )
            }
            return ExitCode(Exit.cannotConnect)
        case "io.jointops.Operations.TooManyConnections":
            if !options.json { printError("jointopsctl: jointopsd turned the connection away: \(text("reason"))") }
            return ExitCode(Exit.cannotConnect)
        case "io.jointops.Units.RegionsNotConfigured":
            if !options.json {
                printError(
                    "jointopsd has no jurisdiction file (\(text("path"))), so it keeps no units; set 'regions' in its configuration (docs/regions.md)."
                )
            }
            return ExitCode(Exit.notConfigured)
        case "org.varlink.service.InvalidParameter":
            if !options.json {
                let parameter = text("parameter")
                if parameter.hasPrefix("(") {
                    // "(message)": the call as a whole, not one of its parameters.
                    printError("jointopsd refused the call: \(text("description"))")
                } else if let sent, sent[parameter] == nil {
                    let article = parameter.first.map { "aeiou".contains($0) } == true ? "an" : "a"
                    printError("\(article) \(parameter) is needed: \(text("description"))")
                } else {
                    printError("invalid \(parameter): \(text("description"))")
                }
            }
            return ExitCode(Exit.usage)
        default:
            if !options.json { printError("\(name): \(JSONValue.object(parameters).canonical)") }
            return ExitCode(Exit.refused)
        }
    }
}

/// A watch stream's replies (as `Session.shown`); a Varlink error or a lost connection ends it with the usual
/// message and exit code.
struct WatchStream {
    let client: VarlinkClient
    let session: Session

    func next() throws -> VarlinkReply {
        let reply: VarlinkReply
        do { reply = try client.receive() } catch let failure as VarlinkClient.Failure {
            throw session.connectionFailure(failure, watching: true)
        }
        if let error = reply.error { throw session.fail(error, reply.parameters) }
        return session.shown(reply)
    }

    /// Whether a reply can be read without blocking, waiting at most `milliseconds`.
    func ready(within milliseconds: Int32) -> Bool { client.replyReady(within: milliseconds) }
}
