import ArgumentParser
import Foundation
import JointOpsCore

/// `jointopsctl report operation ID`: the after-action report, as text or Markdown.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluation reports over a period, and the after-action report of one operation.",
        subcommands: [PeriodReport.self, OperationReport.self], defaultSubcommand: PeriodReport.self)

    struct OperationReport: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "operation",
            abstract: "The after-action report of one operation: deadlines planned against actual, every escalation and note, who did what."
        )
        @Argument(help: "The operation.") var id: String
        @Flag(help: "Markdown, ready to paste into a review (not with --json).") var markdown = false
        @OptionGroup var connection: ConnectionOptions

        func validate() throws {
            // Both are a format for the whole report: one would be dropped without a word.
            if markdown, connection.json {
                throw ValidationError(
                    "give --markdown or --json, not both: choose one format (--markdown for a review, --json for scripts)")
            }
        }

        func run() throws {
            let reply = try Session(options: connection).call("io.jointops.Operations.Report", ["id": .string(id)])
            if connection.json { return print(JSONValue.object(reply).canonical) }
            print(markdown ? AfterAction.markdown(reply) : AfterAction.text(reply))
        }
    }
}

/// Renders the after-action report. A report is pasted into review documents and read
/// later, so its times are local times alone, never "3m ago".
enum AfterAction {
    static func deadlineRows(_ reply: [String: JSONValue]) -> [[String]] {
        Render.array(reply["deadlines"]).map { run in
            [
                Render.string(run["deadline"]), run["instance"]?.stringValue ?? "operation", Render.clock(run["armedAt"]),
                Render.clock(run["due"]), outcome(run), Render.clock(run["settledAt"]),
            ]
        }
    }

    /// `met`, `met, 9s late (escalation #1)`, `missed (escalation #2)`, `dropped`, `pending`.
    static func outcome(_ run: JSONValue) -> String {
        var result = Render.string(run["outcome"]).replacingOccurrences(of: "_", with: " ")
        if run["outcome"] == .string("met_late"), let due = Render.instant(run["due"]), let met = Render.instant(run["settledAt"]) {
            // Whole seconds, rounded up: met 0.4 s late is not "0s late".
            result = "met, \(Render.duration((met.since(due) + 999) / 1000)) late"
        }
        if let number = run["escalation"]?.intValue { result += " (escalation #\(number))" }
        return result
    }

    static func eventRows(_ reply: [String: JSONValue]) -> [[String]] {
        Render.array(reply["events"]).map { event in
            let who =
                event["actor"].flatMap { actor -> String? in
                    actor["name"]?.stringValue.map { "\($0) (\(Render.string(actor["role"])))" }
                } ?? "system"
            return [String(event["operationSequence"]?.intValue ?? 0), Render.clock(event["at"]), who, Render.string(event["description"])]
        }
    }

    static func heading(_ operation: JSONValue?) -> (String, String) {
        let title =
            "\(Render.string(operation?["id"])) — \(Render.string(operation?["workflow"])) v\(operation?["version"]?.intValue ?? 0) — \(Render.string(operation?["title"]))"
        var status = "phase \(Render.string(operation?["phase"]))"
        if let ending = operation?["ending"]?.stringValue { status += " (\(ending))" }
        status += ", region \(Render.string(operation?["region"]))"
        if let priority = operation?["priority"]?.stringValue { status += ", priority \(priority)" }
        return (
            title, status + ", started \(Render.clock(operation?["startedAt"])), last change \(Render.clock(operation?["lastChangeAt"]))"
        )
    }

    static let deadlineHeader = ["DEADLINE", "FOR", "ARMED", "DUE", "OUTCOME", "AT"]
    static let eventHeader = ["#", "TIME", "WHO", "WHAT"]

    static func text(_ reply: [String: JSONValue]) -> String {
        let (title, status) = heading(reply["operation"])
        return """
            After-action report: \(title)
            \(status)

            Deadlines, planned against actual
            \(Render.table(deadlineHeader, deadlineRows(reply)))

            Timeline
            \(Render.table(eventHeader, eventRows(reply)))
            """
    }

    static func markdown(_ reply: [String: JSONValue]) -> String {
        func table(_ header: [String], _ rows: [[String]]) -> String {
            func cell(_ text: String) -> String { MarkdownText.escaped(text) }
            let lines =
                ["| " + header.map { $0.capitalized }.joined(separator: " | ") + " |", "|" + header.map { _ in "---|" }.joined()]
                + rows.map { "| " + $0.map(cell).joined(separator: " | ") + " |" }
            return lines.joined(separator: "\n")
        }
        let (title, status) = heading(reply["operation"])
        return """
            # After-action report: \(MarkdownText.escaped(title))

            \(MarkdownText.escaped(status))

            ## Deadlines, planned against actual

            \(table(deadlineHeader, deadlineRows(reply)))

            ## Timeline

            \(table(eventHeader, eventRows(reply)))
            """
    }
}
