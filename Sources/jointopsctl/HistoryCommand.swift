import ArgumentParser
import JointOpsCore

struct History: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The audit trail of an operation: who did what, when.",
        discussion: """
            The whole trail by default, fetched from jointopsd a page at a time (so no one reply is \
            large) and printed as one table, or with --json as one object. --limit prints one page \
            and, when there is more, says on stderr the command for the next (--json: the reply's \
            `next`). The id @units gives the unit roster's own changes.
            """)
    @Argument(help: "The operation (or @units).") var id: String
    @Option(help: "Only events after this one (its #): the next page, as the page before says.") var after: Int?
    @Option(help: "Print one page of at most this many events (1 … 10000), not the whole trail.") var limit: Int?
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        let session = Session(options: connection)
        var parameters: [String: JSONValue] = ["id": .string(id)]
        if let limit { parameters["limit"] = .int(Int64(limit)) }
        if let after { parameters["after"] = .int(Int64(after)) }
        // Kept as each page comes, no more than what is printed: the events' text, or the rows.
        var events: [JSONValue] = []
        var rows: [[String]] = []
        var next: JSONValue?
        repeat {
            if let next { parameters["after"] = next }
            let reply = try session.call("io.jointops.Operations.History", parameters)
            let page = Render.array(reply["events"])
            if connection.json { events += page.map { .encoded($0.canonicalBytes) } } else { rows += page.map(Self.row) }
            next = reply["next"]
        } while next != nil && limit == nil
        if connection.json {
            var reply: [String: JSONValue] = ["events": .array(events)]
            if let next { reply["next"] = next }
            return print(JSONValue.object(reply).canonical)
        }
        print(Render.table(["#", "TIME", "WHO", "WHAT"], rows))
        if let next = next?.intValue { printNextPage(after: next, shown: rows.count) }
    }

    static func row(_ event: JSONValue) -> [String] {
        let who =
            event["actor"].flatMap { actor -> String? in
                guard let name = actor["name"]?.stringValue else { return nil }
                return "\(name) (\(Render.string(actor["role"])))"
            } ?? "system"
        return [String(event["operationSequence"]?.intValue ?? 0), Render.time(event["at"]), who, Render.string(event["description"])]
    }

    /// On stderr (a pipe gets the table alone): that there is more, and the command for it.
    func printNextPage(after next: Int64, shown: Int) {
        var words = ["jointopsctl", "history", Render.shellQuoted(id), "--after", String(next)]
        if let limit { words += ["--limit", String(limit)] }
        printError("\(shown) shown; there may be more: \(words.joined(separator: " "))")
    }
}
