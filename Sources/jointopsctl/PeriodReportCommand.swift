import ArgumentParser
import Foundation
import JointOpsCore

/// `jointopsctl report --from … --to …`: the evaluation report of a period beside the previous one.
struct PeriodReport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "period",
        abstract: "Evaluation over a period: counts, p50/p90/p95 of each interval, deadline compliance, escalations and ratings.",
        discussion: """
            Operations count by when they started (were reported). Each figure stands beside the previous period of the same \
            length, with the change in percent. Intervals are in whole seconds and count operations that have ended.
            FROM and TO take 2026-11-01 (local midnight), 2026-11-01T08:00:00+08:00, 'now', 'today', or a span ago such as 7d, 24h, 90m.
            """)

    @Option(help: "Period start (default: 7 days before --to).") var from: String?
    @Option(help: "Period end, exclusive (default: now).") var to: String?
    @Option(help: "Only this region and its sub-regions.") var region: String?
    @Option(help: "Only operations that dispatched this branch; its intervals and deadlines only.") var branch: String?
    @Option(help: "Only this workflow.") var workflow: String?
    @Option(help: "Only this priority (P1-P4).") var priority: String?
    @Flag(help: "CSV: figure,label,unit,current,previous,change_percent (not with --json).") var csv = false
    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        // Both are a format for the whole report: one would be dropped without a word.
        if csv, connection.json {
            throw ValidationError("give --csv or --json, not both: choose one format (--csv for a spreadsheet, --json for scripts)")
        }
    }

    func run() throws {
        let end = try to.map { try Self.instant($0, option: "--to") } ?? Render.now
        let start = try from.map { try Self.instant($0, option: "--from") } ?? Instant(milliseconds: end.milliseconds - 7 * 86_400_000)
        guard start < end else { throw ValidationError("--from must be before --to (the period would be empty)") }
        var parameters: [String: JSONValue] = [
            "from": .string(ISO8601.format(start, offsetSeconds: Render.offsetSeconds(at: start))),
            "to": .string(ISO8601.format(end, offsetSeconds: Render.offsetSeconds(at: end))),
        ]
        for (name, value) in [("region", region), ("branch", branch), ("workflow", workflow), ("priority", priority)] {
            if let value { parameters[name] = .string(value) }
        }
        let reply = try Session(options: connection).call("io.jointops.Operations.Evaluate", parameters)
        if connection.json { return print(JSONValue.object(reply).canonical) }
        print(csv ? Self.csv(reply) : Self.text(reply))
    }

    /// The longest span ago a bound may be (`36500d`): 100 years.
    static let longestSpan: Int64 = 36_500 * 86_400_000

    /// Reads a period bound: a time with offset, a local date, `now`, `today`, or a span ago.
    static func instant(_ text: String, option: String) throws -> Instant {
        if let instant = ISO8601.parse(text) { return instant }
        if let problem = ISO8601.problem(text) { throw ValidationError("\(option) '\(text)' is not a time: \(problem)") }
        let dayMilliseconds: Int64 = 86_400_000
        switch text {
        case "now": return Render.now
        case "today":
            let local = ISO8601.format(Render.now, offsetSeconds: Render.offsetSeconds(at: Render.now))
            return try instant(String(local.prefix(10)), option: option)
        default: break
        }
        // A local date: its local midnight, in the offset that day begins with.
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
        if text.count == 10, parts.count == 3, let year = parts[0], let month = parts[1], let day = parts[2] {
            if (1...12).contains(month), let problem = ISO8601.dayProblem(year: year, month: month, day: day) {
                throw ValidationError("\(option) '\(text)' is not a day: \(problem)")
            }
            if let midnight = Render.localMidnight(year: year, month: month, day: day) { return midnight }
        }
        if let unit = text.last, let amount = Int64(text.dropLast()), amount > 0 {
            let scale: Int64? = ["d": dayMilliseconds, "h": 3_600_000, "m": 60_000][unit]
            if let scale {
                // (Checked before multiplying: 999999999999d overflowed, and crashed.)
                guard amount <= Self.longestSpan / scale else {
                    throw ValidationError(
                        "\(option) '\(text)' is too far back: a span ago is at most 100 years (36500d, 876000h or 52560000m); for an earlier start give a date, such as 2020-01-01"
                    )
                }
                return Render.now - amount * scale
            }
        }
        throw ValidationError(
            "\(option) '\(text)' is not a time: use 2026-11-01, 2026-11-01T08:00:00+08:00, now, today, or a span ago such as 7d, 24h, 90m")
    }

    static func value(_ number: JSONValue?, unit: String) -> String {
        guard let number = number.flatMap(Self.double) else { return "-" }
        switch unit {
        case "seconds": return Render.duration(Int64(number))
        case "percent": return String(format: "%.1f%%", number)
        case "count": return String(Int64(number))
        default: return String(format: "%.2f", number)
        }
    }

    static func double(_ value: JSONValue) -> Double? {
        switch value {
        case .int(let number): Double(number)
        case .double(let number): number
        default: nil
        }
    }

    static func change(_ value: JSONValue?) -> String {
        guard let number = value.flatMap(Self.double) else { return "-" }
        return String(format: "%+.1f%%", number)
    }

    static func text(_ reply: [String: JSONValue]) -> String {
        let rows = Render.array(reply["figures"]).map { figure in
            let unit = Render.string(figure["unit"])
            return [
                Render.string(figure["label"]), value(figure["current"], unit: unit), value(figure["previous"], unit: unit),
                change(figure["changePercent"]),
            ]
        }
        let period = "\(Render.clock(reply["from"])) → \(Render.clock(reply["to"]))"
        let previous = "\(Render.clock(reply["previousFrom"])) → \(Render.clock(reply["previousTo"]))"
        return "Evaluation \(period) (previous period \(previous))\n\n"
            + Render.table(["FIGURE", "THIS PERIOD", "PREVIOUS", "CHANGE"], rows)
    }

    static func csv(_ reply: [String: JSONValue]) -> String {
        func field(_ value: JSONValue?) -> String {
            guard let value, value != .null else { return "" }
            if let number = Self.double(value) { return JSONValue.double(number).canonical }
            return CSVField.text(Render.string(value))
        }
        let lines = Render.array(reply["figures"]).map { figure in
            ["figure", "label", "unit", "current", "previous", "changePercent"].map { field(figure[$0]) }.joined(separator: ",")
        }
        return (["figure,label,unit,current,previous,change_percent"] + lines).joined(separator: "\n")
    }
}

/// `jointopsctl rate ID --score N …`: a member of the public's rating of a closed operation.
struct Rate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record a service rating (好差评) of a closed operation; a score of 1 or 2 starts a rectification.",
        discussion: "Answers and score run from 1 (very dissatisfied) to 5 (very satisfied).")

    @Argument(help: "The closed operation.") var id: String
    @Option(help: "Before service: was the report taken promptly? (1-5)") var before: Int
    @Option(help: "During service: did officers arrive in time and act well? (1-5)") var during: Int
    @Option(help: "After service: were you told the outcome; is it resolved? (1-5)") var after: Int
    @Option(help: "The overall score (1-5).") var score: Int
    @Option(help: "The rater's comment.") var comment: String?
    @Option(help: "Where the service was given (default emergency_call_110).") var channel: String?
    @Option(help: "For a score of 1 or 2: attitude, efficiency, result or conduct.") var category: String?
    @Option(help: "A request id of your own, to make retries safe across invocations.") var requestId: String?
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        var parameters: [String: JSONValue] = [
            "id": .string(id), "before": .int(Int64(before)), "during": .int(Int64(during)), "after": .int(Int64(after)),
            "score": .int(Int64(score)),
        ]
        for (name, value) in [("comment", comment), ("channel", channel), ("category", category), ("requestId", requestId)] {
            if let value { parameters[name] = .string(value) }
        }
        let reply = try Session(options: connection).call("io.jointops.Operations.Rate", parameters, retrying: true)
        if connection.json { return print(JSONValue.object(reply).canonical) }
        var text = "\(id) rated \(score)/5"
        if let rectification = reply["rectification"], rectification != .null {
            text +=
                "; dissatisfied: rectification \(Render.string(rectification["id"])) started in \(Render.string(rectification["region"]))"
        }
        print(text)
    }
}
