import Foundation
import JointOpsCore

/// Human output: aligned tables, local times with "3m ago", colour only on a terminal.
enum Render {
    static let colour = isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil

    /// "Now" for relative times; `JOINTOPSCTL_NOW` (ISO 8601) fixes it for reproducible output.
    static let now: Instant =
        ProcessInfo.processInfo.environment["JOINTOPSCTL_NOW"].flatMap(ISO8601.parse)
        ?? Instant(milliseconds: Int64(Date().timeIntervalSince1970 * 1000))

    static let offsetSeconds = TimeZone.current.secondsFromGMT()

    static func red(_ text: String) -> String { colour ? "\u{1B}[31m\(text)\u{1B}[0m" : text }
    static func bold(_ text: String) -> String { colour ? "\u{1B}[1m\(text)\u{1B}[0m" : text }

    /// `2026-11-29 08:00:00 (3m ago)` in local time, relative to `now`.
    static func time(_ value: JSONValue?, now: Instant = Render.now) -> String {
        guard let instant = instant(value) else { return "-" }
        return "\(clock(instant)) (\(relative(instant, now: now)))"
    }

    /// `2026-11-29 08:00:00` in local time, without a relative part: for what is read later
    /// (a scrolling log, a report), where "3m ago" would be wrong by then.
    static func clock(_ value: JSONValue?) -> String { instant(value).map(clock) ?? "-" }

    static func clock(_ instant: Instant) -> String {
        let local = ISO8601.format(Instant(milliseconds: instant.milliseconds / 1000 * 1000), offsetSeconds: offsetSeconds)
        return local.prefix(19).replacingOccurrences(of: "T", with: " ")
    }

    static func instant(_ value: JSONValue?) -> Instant? { value?.stringValue.flatMap(ISO8601.parse) }

    static func relative(_ instant: Instant, now: Instant = Render.now) -> String {
        let delta = now.since(instant) / 1000
        let magnitude = abs(delta)
        let amount: String
        switch magnitude {
        case ..<60: amount = "\(magnitude)s"
        case ..<3600: amount = "\(magnitude / 60)m"
        case ..<86_400: amount = "\(magnitude / 3600)h\(magnitude % 3600 / 60 > 0 ? "\(magnitude % 3600 / 60)m" : "")"
        default: amount = "\(magnitude / 86_400)d"
        }
        return delta >= 0 ? "\(amount) ago" : "in \(amount)"
    }

    /// `45s`, `4m05s`, `1h02m`, `2d03h`.
    static func duration(_ seconds: Int64) -> String {
        switch seconds {
        case ..<60: "\(seconds)s"
        case ..<3600: "\(seconds / 60)m" + String(format: "%02ds", seconds % 60)
        case ..<86_400: "\(seconds / 3600)h" + String(format: "%02dm", seconds % 3600 / 60)
        default: "\(seconds / 86_400)d" + String(format: "%02dh", seconds % 86_400 / 3600)
        }
    }

    /// Columns padded to their widest cell (by character count, so Chinese text lines up
    /// as well as a terminal allows).
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(\.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count)
            }.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }

    static func string(_ value: JSONValue?) -> String { value?.stringValue ?? "-" }

    static func array(_ value: JSONValue?) -> [JSONValue] {
        if case .array(let items)? = value { return items }
        return []
    }

    static func operation(_ operation: JSONValue) -> String {
        var lines: [String] = []
        lines.append(
            bold(
                "\(string(operation["id"]))  \(string(operation["workflow"])) v\(operation["version"]?.intValue ?? 0) — \(string(operation["title"]))"
            ))
        var status = "phase \(string(operation["phase"]))   region \(string(operation["region"]))"
        if let priority = operation["priority"]?.stringValue { status += "   priority \(priority)" }
        lines.append(status)
        if let reason = operation["heldReason"]?.stringValue {
            lines.append(red("ON HOLD since \(time(operation["heldSince"])): \(reason)"))
        }
        if let ending = operation["ending"]?.stringValue { lines.append("ended: \(ending)") }
        lines.append("started \(time(operation["startedAt"]))   last change \(time(operation["lastChangeAt"]))")
        if case .object(let attributes)? = operation["attributes"], !attributes.isEmpty {
            lines.append("attributes: " + attributes.keys.sorted().map { "\($0)=\(string(attributes[$0]))" }.joined(separator: "  "))
        }
        let branches = array(operation["branches"])
        if !branches.isEmpty {
            lines.append("")
            lines.append(
                table(
                    ["BRANCH", "KIND", "STEP", "STATUS", "REGION", "UNITS", "SINCE", "NEXT"],
                    branches.map { branch in
                        let since = array(branch["steps"]).last?["enteredAt"]
                        return [
                            string(branch["instance"]), string(branch["kind"]), string(branch["step"]), string(branch["status"]),
                            string(branch["region"]), String(branch["units"]?.intValue ?? 0), time(since),
                            array(branch["next"]).compactMap(\.stringValue).joined(separator: " | "),
                        ]
                    }))
        }
        let staffed = branches.filter { !array($0["assignedUnits"]).isEmpty || ($0["awaitingUnits"]?.intValue ?? 0) > 0 }
        if !staffed.isEmpty {
            lines.append("")
            lines.append(
                table(
                    ["BRANCH", "ASSIGNED UNITS", "AWAITING"],
                    staffed.map { branch in
                        let awaiting = branch["awaitingUnits"]?.intValue ?? 0
                        let units = array(branch["assignedUnits"]).compactMap(\.stringValue)
                        return [
                            string(branch["instance"]), units.isEmpty ? "-" : units.joined(separator: ", "),
                            awaiting > 0 ? red("\(awaiting) more") : "",
                        ]
                    }))
        }
        let timers = array(operation["timers"])
        if !timers.isEmpty {
            lines.append("")
            lines.append(
                table(
                    ["TIMER", "FOR", "DUE", ""],
                    timers.map { timer in
                        let name = "\(string(timer["kind"])) \(string(timer["name"]))"
                        let late = timer["escalating"] == .bool(true) ? red("LATE — escalating") : ""
                        return [name, timer["instance"]?.stringValue ?? "operation", time(timer["due"]), late]
                    }))
        }
        let escalations = array(operation["escalations"])
        if !escalations.isEmpty {
            lines.append("")
            lines.append(
                table(
                    ["ESCALATION", "REASON", "OPENED", "RUNGS", "STATE"],
                    escalations.map { escalation in
                        let state =
                            escalation["resolvedAt"]?.stringValue != nil
                            ? "resolved" : escalation["acknowledgedAt"]?.stringValue != nil ? "acknowledged" : red("open")
                        return [
                            "#\(escalation["number"]?.intValue ?? 0)", string(escalation["reason"]), time(escalation["openedAt"]),
                            String(escalation["rungsFired"]?.intValue ?? 0), state,
                        ]
                    }))
        }
        let allowed = array(operation["allowed"]).compactMap(\.stringValue)
        if !allowed.isEmpty {
            lines.append("")
            lines.append("allowed now: " + allowed.joined(separator: "; "))
        }
        return lines.joined(separator: "\n")
    }
}
