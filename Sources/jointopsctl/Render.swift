import Foundation
import JointOpsCore

/// Human output: aligned tables, local times with "3m ago", colour only on a terminal.
enum Render {
    static let colour = isatty(STDOUT_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil

    /// "Now" for relative times; `JOINTOPSCTL_NOW` (ISO 8601) fixes it for reproducible output.
    static let now: Instant = ProcessInfo.processInfo.environment["JOINTOPSCTL_NOW"].flatMap(ISO8601.parse) ?? wallClock()

    /// The time now, as it moves on (the live board's clock, a watch's notices).
    static func wallClock() -> Instant { Instant(milliseconds: Int64(Date().timeIntervalSince1970 * 1000)) }

    /// The local time zone's offset from UTC at `instant` (summer time included).
    static func offsetSeconds(at instant: Instant) -> Int {
        TimeZone.current.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant.milliseconds) / 1000))
    }

    /// The instant local midnight begins the day of this local date (nil for no such date).
    static func localMidnight(year: Int, month: Int, day: Int) -> Instant? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone.current
        let components = DateComponents(year: year, month: month, day: day)
        guard components.isValidDate(in: calendar), let date = calendar.date(from: components) else { return nil }
        return Instant(milliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded()))
    }

    static func red(_ text: String) -> String { colour ? "\u{1B}[31m\(text)\u{1B}[0m" : text }
    static func yellow(_ text: String) -> String { colour ? "\u{1B}[33m\(text)\u{1B}[0m" : text }
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
        let local = ISO8601.format(Instant(milliseconds: instant.milliseconds / 1000 * 1000), offsetSeconds: offsetSeconds(at: instant))
        return local.prefix(19).replacingOccurrences(of: "T", with: " ")
    }

    static func instant(_ value: JSONValue?) -> Instant? { value?.stringValue.flatMap(ISO8601.parse) }

    /// A fault of the store (type StoreFault) as one line: while it lasts, what is refused;
    /// once it has ended, that the store takes writes again.
    static func storeFault(_ fault: JSONValue) -> String {
        let kind = string(fault["kind"])
        let refused = fault["failedCommands"]?.intValue ?? 0
        let commands = "\(refused) command\(refused == 1 ? "" : "s")"
        if fault["ended"] != nil, fault["ended"] != .null {
            return "store takes writes again (\(kind) since \(clock(fault["since"]))): \(commands) refused meanwhile, none applied"
        }
        return red("STORE FAULT (\(kind)) since \(clock(fault["since"]))")
            + ": every command is refused until it is mended (\(commands) so far; acknowledged events are safe) — \(string(fault["message"]))"
    }

    /// `45s ago`, `in 1m59s`, `3m05s ago` under ten minutes (where a minute matters), then
    /// coarser: `in 12m`, `2h5m ago`, `3d ago`.
    static func relative(_ instant: Instant, now: Instant = Render.now) -> String {
        let delta = now.since(instant) / 1000
        let magnitude = abs(delta)
        let amount: String
        switch magnitude {
        case ..<600: amount = duration(magnitude)
        case ..<3600: amount = "\(magnitude / 60)m"
        case ..<86_400: amount = "\(magnitude / 3600)h\(magnitude % 3600 / 60 > 0 ? "\(magnitude % 3600 / 60)m" : "")"
        default: amount = "\(magnitude / 86_400)d"
        }
        return delta >= 0 ? "\(amount) ago" : "in \(amount)"
    }

    /// `text` (a refusal's reason) with each UTC time the engine wrote in it
    /// (`2026-11-30T17:17:25.281Z`) as the rest of the output shows times: local, with how long ago.
    static func localTimes(in text: String, now: Instant = Render.now) -> String {
        text.replacing(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/) { match in
            ISO8601.parse(String(match.output.0)).map { time(.string(ISO8601.format($0)), now: now) } ?? String(match.output.0)
        }
    }

    /// The order late steps are listed in (`overdue`, `board`): P1 first (no priority last),
    /// then the longest late, then by operation.
    static func urgency(priority: String?, missedAt: JSONValue?, operation: String) -> (Int, Int64, String) {
        (priority.flatMap { Int($0.dropFirst()) } ?? .max, instant(missedAt)?.milliseconds ?? .max, operation)
    }

    /// How long ago `value` was, as a `duration`: how late a missed deadline is.
    static func lateness(since value: JSONValue?, now: Instant = Render.now) -> String? {
        instant(value).map { duration(max(0, now.since($0) / 1000)) }
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

    /// Columns padded to their widest cell, measured in terminal columns (`width`), so that
    /// Chinese call signs and names line up. The cells' text from jointopsd is escaped
    /// already (`TerminalText`): any escape sequence in a cell is jointopsctl's own colour.
    static func table(_ header: [String], _ rows: [[String]]) -> String {
        var widths = header.map(width)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], width(cell)) } }
        func line(_ cells: [String]) -> String {
            var line = cells.enumerated().map { index, cell in
                index == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - width(cell))
            }.joined(separator: "  ")
            // Empty cells at the end leave no trailing blanks.
            while line.last == " " { line.removeLast() }
            return line
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }

    /// The terminal columns `text` takes: two for each East Asian wide or fullwidth character,
    /// none for a combining mark or a colour escape (ESC [ … m), one for anything else.
    static func width(_ text: String) -> Int {
        var columns = 0
        forEachPart(of: text) { part in
            if case .character(let scalar) = part { columns += width(scalar) }
            return true
        }
        return columns
    }

    /// `line` cut to at most `columns` terminal columns (as `width` counts them), its colour
    /// sequences kept; a line cut inside a colour ends with a reset.
    static func clipped(_ line: String, toColumns columns: Int) -> String {
        guard width(line) > columns else { return line }
        var kept = String.UnicodeScalarView()
        var used = 0
        var coloured = false
        forEachPart(of: line) { part in
            switch part {
            case .escape(let sequence):
                coloured = true
                kept.append(contentsOf: sequence)
            case .character(let scalar):
                let needed = width(scalar)
                guard used + needed <= columns else { return false }
                used += needed
                kept.append(scalar)
            }
            return true
        }
        return String(kept) + (coloured ? "\u{1B}[0m" : "")
    }

    /// A piece of text on a terminal: an escape sequence (ESC, then for ESC [ everything up to
    /// its final character, @ to ~), which takes no columns, or one scalar of the text.
    enum TerminalPart {
        case escape([Unicode.Scalar])
        case character(Unicode.Scalar)
    }

    /// Calls `body` with each part of `text` in order, until it returns false.
    static func forEachPart(of text: String, _ body: (TerminalPart) -> Bool) {
        var scalars = text.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            guard scalar == "\u{1B}" else {
                if !body(.character(scalar)) { return }
                continue
            }
            var sequence = [scalar]
            if let next = scalars.next() {
                sequence.append(next)
                if next == "[" {
                    while let part = scalars.next() {
                        sequence.append(part)
                        if (0x40...0x7E).contains(part.value) { break }
                    }
                }
            }
            if !body(.escape(sequence)) { return }
        }
    }

    static func width(_ scalar: Unicode.Scalar) -> Int {
        switch scalar.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: break
        }
        switch scalar.value {
        case 0x1100...0x115F,  // Hangul Jamo initial consonants
            0x2E80...0x303E,  // CJK radicals, Kangxi radicals, ideographic description, CJK symbols and punctuation
            0x3041...0x33FF,  // kana, Bopomofo, Hangul compatibility Jamo, Kanbun, CJK strokes, enclosed CJK, CJK compatibility
            0x3400...0x4DBF, 0x4E00...0x9FFF,  // CJK unified ideographs and extension A
            0xA000...0xA4CF,  // Yi
            0xAC00...0xD7A3,  // Hangul syllables
            0xF900...0xFAFF,  // CJK compatibility ideographs
            0xFE10...0xFE19, 0xFE30...0xFE6F,  // vertical forms, CJK compatibility forms, small form variants
            0xFF00...0xFF60, 0xFFE0...0xFFE6,  // fullwidth forms
            0x20000...0x2FFFD, 0x30000...0x3FFFD:  // CJK extensions B and later
            return 2
        default:
            return 1
        }
    }

    static func string(_ value: JSONValue?) -> String { value?.stringValue ?? "-" }

    /// `text` as a shell word: as it is when it is plain, otherwise in single quotes.
    static func shellQuoted(_ text: String) -> String {
        let plain =
            !text.isEmpty
            && text.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || "-_.:/=@+,".unicodeScalars.contains($0))
            }
        return plain ? text : "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
    }

    /// An operation's phase, `reported (held)` while it is on hold.
    static func phase(_ operation: JSONValue) -> String {
        string(operation["phase"]) + (operation["heldReason"]?.stringValue == nil ? "" : " (held)")
    }

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
                        // A paused clock (on hold): what is left, not a due time that may already read as past.
                        let fires =
                            timer["paused"] == .bool(true)
                            ? "paused — \(duration(((timer["remaining"]?.intValue ?? 0) + 999) / 1000)) left" : time(timer["due"])
                        // A missed deadline: when it was due, and when its ladder's next rung fires
                        // (a daemon without deadlineDue: the rung's time alone, as before).
                        guard timer["escalating"] == .bool(true) else {
                            return [name, timer["instance"]?.stringValue ?? "operation", fires, ""]
                        }
                        guard timer["deadlineDue"]?.stringValue != nil else {
                            return [name, timer["instance"]?.stringValue ?? "operation", fires, red("LATE — escalating")]
                        }
                        return [
                            name, timer["instance"]?.stringValue ?? "operation", time(timer["deadlineDue"]),
                            red("LATE — escalating") + ", next rung \(fires)",
                        ]
                    }))
        }
        let escalations = array(operation["escalations"])
        if !escalations.isEmpty {
            lines.append("")
            lines.append(
                table(
                    ["ESCALATION", "REASON", "FOR", "OPENED", "RUNGS", "STATE"],
                    escalations.map { escalation in
                        let acknowledged = escalation["acknowledgedAt"]?.stringValue != nil
                        var state = escalation["resolvedAt"]?.stringValue != nil ? "resolved" : acknowledged ? "acknowledged" : red("open")
                        // A missed deadline still unmet is late however its ladder stands (a
                        // finished ladder arms no timer, so the TIMER table no longer shows it).
                        if escalation["resolvedAt"]?.stringValue == nil, escalation["deadline"]?.stringValue != nil,
                            let since = lateness(since: escalation["openedAt"])
                        {
                            state = red("LATE \(since), \(acknowledged ? "acknowledged" : "open")")
                        }
                        let scope = escalation["deadline"]?.stringValue == nil ? "-" : escalation["instance"]?.stringValue ?? "operation"
                        return [
                            "#\(escalation["number"]?.intValue ?? 0)", string(escalation["reason"]), scope, time(escalation["openedAt"]),
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
