import ArgumentParser
import Foundation
import JointOpsCore
import JointOpsProtocol

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List operations, newest first.")
    @Option(help: "Only in this phase.") var phase: String?
    @Option(help: "Only in this region.") var region: String?
    @Option(help: "Only with this branch.") var branch: String?
    @Option(help: "Only of this priority (P1 … P4).") var priority: String?
    @Flag(help: "Only those with a missed deadline.") var overdue = false
    @Flag(name: .long, help: "Include closed and cancelled operations.") var all = false
    @Option(help: "At most this many (1 … 10000; default 1000).") var limit: Int?
    @Option(help: "Only those listed after this operation: the next page, as the page before says.") var before: String?
    @OptionGroup var connection: ConnectionOptions

    /// What an empty list says: with filters, that none matches them (not that nothing is open).
    static func noneMessage(filters parameters: [String: JSONValue], all: Bool) -> String {
        let options = parameters.keys.sorted().compactMap { key -> String? in
            switch parameters[key] {
            case .string(let value)?: "--\(key) \(value)"
            case .bool(true)? where key == "overdue": "--overdue"
            default: nil
            }
        }
        let more = all ? "" : " (--all includes closed and cancelled ones)"
        guard !options.isEmpty else { return "no operations\(all ? "" : " open")" + more }
        return "no operations\(all ? "" : " open") match \(options.joined(separator: " "))" + more
    }

    func run() throws {
        var parameters: [String: JSONValue] = [:]
        for (key, value) in [("phase", phase), ("region", region), ("branch", branch), ("priority", priority)] {
            if let value { parameters[key] = .string(value) }
        }
        if overdue { parameters["overdue"] = .bool(true) }
        if all { parameters["includeEnded"] = .bool(true) }
        if let limit { parameters["limit"] = .int(Int64(limit)) }
        if let before { parameters["before"] = .string(before) }
        let reply = try Session(options: connection).call("io.jointops.Operations.List", parameters)
        if connection.json { return print(JSONValue.object(reply).canonical) }
        let operations = Render.array(reply["operations"])
        let next = reply["next"]?.stringValue
        defer { if let next { printNextPage(after: next, shown: operations.count) } }
        guard !operations.isEmpty else {
            return print(next == nil ? Self.noneMessage(filters: parameters, all: all) : "none of the operations read so far match")
        }
        print(
            Render.table(
                ["ID", "WORKFLOW", "PHASE", "REGION", "PRIORITY", "BRANCHES", "ESCALATIONS", "STARTED"],
                operations.map { operation in
                    let escalations = operation["openEscalations"]?.intValue ?? 0
                    return [
                        Render.string(operation["id"]), Render.string(operation["workflow"]), Render.phase(operation),
                        Render.string(operation["region"]), Render.string(operation["priority"]),
                        Self.branches(operation),
                        escalations > 0 ? Render.red(String(escalations)) : "0", Render.time(operation["startedAt"]),
                    ]
                }))
    }
}

extension List {
    /// On stderr (a pipe gets the table alone): that there is more, and the command for it.
    func printNextPage(after next: String, shown: Int) {
        var words = ["jointopsctl", "list"]
        for (flag, value) in [("--phase", phase), ("--region", region), ("--branch", branch), ("--priority", priority)] {
            if let value { words += [flag, Render.shellQuoted(value)] }
        }
        if overdue { words.append("--overdue") }
        if all { words.append("--all") }
        if let limit { words += ["--limit", String(limit)] }
        words += ["--before", Render.shellQuoted(next)]
        let what = shown == 0 ? "there are older operations to look through" : "\(shown) shown; there may be more"
        printError("\(what): \(words.joined(separator: " "))")
    }

    /// Active branches, and the units they still await: `3, 2 units short` (yellow).
    static func branches(_ operation: JSONValue) -> String {
        let active = String(operation["activeBranches"]?.intValue ?? 0)
        let short = operation["awaitingUnits"]?.intValue ?? 0
        guard short > 0 else { return active }
        return active + ", " + Render.yellow("\(short) unit\(short == 1 ? "" : "s") short")
    }
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one operation: phase, branches and steps, armed deadlines, escalations.")
    @Argument(help: "The operation.") var id: String
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        Reply.operation(try Session(options: connection).call("io.jointops.Operations.Show", ["id": .string(id)]), connection, full: true)
    }
}

struct Overdue: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Every late step city-wide, the most urgent first (P1 first, then the longest late), with who has been alerted.",
        discussion: "Operations on hold are marked (held). --json keeps the daemon's order, the latest first.")
    @Option(help: "Only this region.") var region: String?
    @Option(help: "Only this branch.") var branch: String?
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        var parameters: [String: JSONValue] = [:]
        if let region { parameters["region"] = .string(region) }
        if let branch { parameters["branch"] = .string(branch) }
        let reply = try Session(options: connection).call("io.jointops.Operations.Overdue", parameters)
        if connection.json { return print(JSONValue.object(reply).canonical) }
        let rows = Render.array(reply["overdue"])
        guard !rows.isEmpty else { return print("nothing is overdue") }
        func urgency(_ row: JSONValue) -> (Int, Int64, String) {
            Render.urgency(priority: row["priority"]?.stringValue, missedAt: row["missedAt"], operation: Render.string(row["operation"]))
        }
        print(
            Render.table(
                ["OPERATION", "PRIORITY", "REGION", "DEADLINE", "BRANCH", "MISSED", "ESCALATION", "ALERTED", "ACKNOWLEDGED"],
                rows.sorted { urgency($0) < urgency($1) }.map { row in
                    [
                        Render.string(row["operation"]) + (row["heldReason"]?.stringValue == nil ? "" : " (held)"),
                        Render.string(row["priority"]), Render.string(row["region"]), Render.red(Render.string(row["deadline"])),
                        row["instance"]?.stringValue ?? "-", Render.time(row["missedAt"]), "#\(row["escalation"]?.intValue ?? 0)",
                        Render.array(row["alerted"]).compactMap(\.stringValue).joined(separator: ", "),
                        row["acknowledgedAt"]?.stringValue == nil ? "no" : Render.time(row["acknowledgedAt"]),
                    ]
                }))
    }
}

struct Workflows: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The workflows the daemon has loaded, and their versions.")
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        let reply = try Session(options: connection).call("io.jointops.Operations.Workflows", [:])
        if connection.json { return print(JSONValue.object(reply).canonical) }
        print(
            Render.table(
                ["WORKFLOW", "VERSION", "TITLE", "ATTRIBUTES"],
                Render.array(reply["workflows"]).map { workflow in
                    [
                        Render.string(workflow["id"]), String(workflow["version"]?.intValue ?? 0), Render.string(workflow["title"]),
                        Render.array(workflow["attributes"]).compactMap(\.stringValue).joined(separator: " "),
                    ]
                }))
    }
}

struct Admin: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Administration: reload the workflows, verify the event log, back up the database.",
        subcommands: [Reload.self, Verify.self, Backup.self])

    struct Reload: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Re-read the workflows directory and the jurisdiction file; all valid → swapped at once, else nothing changes (exit 1).",
            discussion: "systemctl reload jointopsd runs this, so its exit code is the reload's result.")
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let reply = try Session(options: connection).call("io.jointops.Admin.Reload", [:])
            if connection.json { return print(JSONValue.object(reply).canonical) }
            let changes = Render.array(reply["changes"]).compactMap(\.stringValue)
            print("reloaded: " + Render.array(reply["workflows"]).compactMap(\.stringValue).joined(separator: ", "))
            print(changes.isEmpty ? "nothing changed" : changes.joined(separator: "\n"))
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Walk the event log's hash chain; exit 1 if it is broken.")
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let reply = try Session(options: connection).call("io.jointops.Admin.Verify", [:])
            if connection.json {
                print(JSONValue.object(reply).canonical)
            } else if reply["intact"] == .bool(true) {
                print("chain intact: \(reply["eventsChecked"]?.intValue ?? 0) events, head \(Render.string(reply["headHash"]))")
            } else {
                print(Render.red("chain BROKEN at event \(reply["brokenAt"]?.intValue ?? 0): \(Render.string(reply["reason"]))"))
            }
            if reply["intact"] != .bool(true) { throw ExitCode(Exit.refused) }
        }
    }

    struct Backup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the database, online, to a new file the daemon can write.",
            discussion: """
                A relative PATH is taken from the current directory (the daemon's own is / under systemd). \
                The daemon writes the file, as its user and on its machine, and refuses to replace one that exists unless --force is given.
                """)
        @Argument(help: "Where to write the backup.") var path: String
        @Flag(help: "Replace the file if it exists.") var force = false
        @OptionGroup var connection: ConnectionOptions

        func validate() throws {
            // An empty path is the current directory to URL(fileURLWithPath:), which the daemon then
            // refused as a directory: the operator gave no path at all.
            guard !path.isEmpty else {
                throw ValidationError(
                    "the backup path is empty; give the path of a new file the daemon can write, e.g. /var/lib/jointops/backup.sqlite (under systemd it may write only in /var/lib/jointops)"
                )
            }
        }

        func run() throws {
            var parameters: [String: JSONValue] = ["path": .string(URL(fileURLWithPath: path).standardizedFileURL.path)]
            if force { parameters["overwrite"] = .bool(true) }
            let reply = try Session(options: connection).call("io.jointops.Admin.Backup", parameters)
            if connection.json { return print(JSONValue.object(reply).canonical) }
            print(
                "backup written to \(Render.string(reply["path"])) (\(reply["events"]?.intValue ?? 0) events); restore: \(Self.restoreGuide), \"Restore\""
            )
        }

        /// The storage document where `make install` put it (its DOCDIR,
        /// `$(PREFIX)/share/doc/jointops`, beside this binary's `$(PREFIX)/bin`), or, when it is
        /// not there (run from a build folder), its place in the sources.
        static var restoreGuide: String {
            let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            let installed = executable.deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("share/doc/jointops/docs/storage.md").standardizedFileURL.path
            return FileManager.default.fileExists(atPath: installed) ? installed : "docs/storage.md in the jointops sources"
        }
    }
}
