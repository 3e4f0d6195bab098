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
        @Flag(help: "Markdown, ready to paste into a review.") var markdown = false
        @OptionGroup var connection: ConnectionOptions

        func run() throws {
            let reply = try Session(options: connection).call("io.jointops.Operations.Report", ["id": .string(id)])
            if connection.json { return print(JSONValue.object(reply).canonical) }
            print(markdown ? AfterAction.markdown(reply) : AfterAction.text(reply))
        }
    }
}

/// Renders the after-action report.
enum AfterAction {
    static func deadlineRows(_ reply: [String: JSONValue]) -> [[String]] {
        Render.array(reply["deadlines"]).map { run in
            let outcome = Render.string(run["outcome"])
            var result = outcome.replacingOccurrences(of: "_", with: " ")
            if let number = run["escalation"]?.intValue { result += " (escalation #\(number))" }
            return [
                Render.string(run["deadline"]), run["instance"]?.stringValue ?? "operation", Render.time(run["armedAt"]),
                Render.time(run["due"]), result, run["settledAt"]?.stringValue == nil ? "-" : Render.time(run["settledAt"]),
            ]
        }
    }

    static func eventRows(_ reply: [String: JSONValue]) -> [[String]] {
        Render.array(reply["events"]).map { event in
            let who =
                event["actor"].flatMap { actor -> String? in
                    actor["name"]?.stringValue.map { "\($0) (\(Render.string(actor["role"])))" }
                } ?? "system"
            return [String(event["operationSequence"]?.intValue ?? 0), Render.time(event["at"]), who, Render.string(event["description"])]
        }
    }

    static func heading(_ operation: JSONValue?) -> (String, String) {
        let title =
            "\(Render.string(operation?["id"])) — \(Render.string(operation?["workflow"])) v\(operation?["version"]?.intValue ?? 0) — \(Render.string(operation?["title"]))"
        var status = "phase \(Render.string(operation?["phase"]))"
        if let ending = operation?["ending"]?.stringValue { status += " (\(ending))" }
        status += ", region \(Render.string(operation?["region"]))"
        if let priority = operation?["priority"]?.stringValue { status += ", priority \(priority)" }
        return (title, status + ", started \(Render.time(operation?["startedAt"])), last change \(Render.time(operation?["lastChangeAt"]))")
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
            func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
            let lines =
                ["| " + header.map { $0.capitalized }.joined(separator: " | ") + " |", "|" + header.map { _ in "---|" }.joined()]
                + rows.map { "| " + $0.map(cell).joined(separator: " | ") + " |" }
            return lines.joined(separator: "\n")
        }
        let (title, status) = heading(reply["operation"])
        return """
            # After-action report: \(title)

            \(status)

            ## Deadlines, planned against actual

            \(table(deadlineHeader, deadlineRows(reply)))

            ## Timeline

            \(table(eventHeader, eventRows(reply)))
            """
    }
}
