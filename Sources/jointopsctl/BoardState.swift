import Foundation
import JointOpsCore

/// The board's model: the open operations as the watch stream last described them.
struct BoardState {
    static let kinds = ["criminal_investigation", "public_order", "swat", "population", "traffic"]
    static let headers = ["CRIM", "ORDER", "SWAT", "POP", "TRAFFIC"]

    private(set) var operations: [String: JSONValue] = [:]
    /// The store's fault while it lasts (commands are refused meanwhile).
    private(set) var storeFault: JSONValue?
    /// Since when jointopsd is away (the watch ended): what the board shows is as it stood then.
    var awaySince: Instant?

    mutating func apply(_ reply: [String: JSONValue]) {
        if let left = reply["left"]?.stringValue {
            operations[left] = nil  // moved out of the board's region
            return
        }
        if let fault = reply["storeFault"] {
            storeFault = fault["ended"].map { $0 == .null } ?? true ? fault : nil
            return
        }
        guard let operation = reply["operation"], let id = operation["id"]?.stringValue else { return }
        let phase = operation["phase"]?.stringValue
        operations[id] = phase == "closed" || phase == "cancelled" ? nil : operation
    }

    struct Row {
        var region: String
        var open = 0
        var late = 0
        var escalations = 0
        var unacknowledged = 0
        var branches: [String: Int] = [:]
        /// Units the active branches of each kind still await.
        var short: [String: Int] = [:]
    }

    struct Late {
        var operation: String
        var priority: String?
        var region: String
        var deadline: String
        var instance: String?
        var missedAt: JSONValue?
        var rungsFired: Int64
        var acknowledged: Bool
    }

    /// Rows by region (the operation's, and each active branch's own), and every late step,
    /// the most urgent first (as `overdue` lists them).
    func summary() -> (rows: [Row], late: [Late]) {
        var rows: [String: Row] = [:]
        var late: [Late] = []
        for operation in operations.values {
            let region = Render.string(operation["region"])
            rows[region, default: Row(region: region)].open += 1
            for branch in Render.array(operation["branches"]) where branch["status"] == .string("active") {
                let branchRegion = Render.string(branch["region"])
                rows[branchRegion, default: Row(region: branchRegion)].branches[Render.string(branch["kind"]), default: 0] += 1
                let awaiting = Int(branch["awaitingUnits"]?.intValue ?? 0)
                if awaiting > 0 {
                    rows[branchRegion, default: Row(region: branchRegion)].short[Render.string(branch["kind"]), default: 0] += awaiting
                }
            }
            for escalation in Render.array(operation["escalations"]) where escalation["resolvedAt"] == .null {
                let acknowledged = escalation["acknowledgedAt"] != .null
                rows[region, default: Row(region: region)].escalations += 1
                if !acknowledged { rows[region, default: Row(region: region)].unacknowledged += 1 }
                guard let deadline = escalation["deadline"]?.stringValue else { continue }
                rows[region, default: Row(region: region)].late += 1
                late.append(
                    Late(
                        operation: Render.string(operation["id"]), priority: operation["priority"]?.stringValue, region: region,
                        deadline: deadline,
                        instance: escalation["instance"]?.stringValue, missedAt: escalation["openedAt"],
                        rungsFired: escalation["rungsFired"]?.intValue ?? 0, acknowledged: acknowledged))
            }
        }
        late.sort {
            Render.urgency(priority: $0.priority, missedAt: $0.missedAt, operation: $0.operation)
                < Render.urgency(priority: $1.priority, missedAt: $1.missedAt, operation: $1.operation)
        }
        return (rows.values.sorted { $0.region < $1.region }, late)
    }

    func text(at now: Instant, width: Int) -> String {
        let (rows, late) = summary()
        let total = rows.reduce(into: Row(region: "TOTAL")) { total, row in
            total.open += row.open
            total.late += row.late
            total.escalations += row.escalations
            total.unacknowledged += row.unacknowledged
            for (kind, count) in row.branches { total.branches[kind, default: 0] += count }
            for (kind, count) in row.short { total.short[kind, default: 0] += count }
        }
        /// Active branches, and the units they still await: `2 (3 short)`.
        func count(_ branches: Int, short: Int) -> String {
            short > 0 ? "\(branches) " + Render.yellow("(\(short) short)") : String(branches)
        }
        func cells(_ row: Row) -> [String] {
            let other = { (counts: [String: Int]) in counts.filter { !Self.kinds.contains($0.key) }.values.reduce(0, +) }
            return [
                row.region, String(row.open), row.late > 0 ? Render.red(String(row.late)) : "0",
                row.unacknowledged > 0 ? Render.red("\(row.escalations) (\(row.unacknowledged) new)") : String(row.escalations),
            ]
                + Self.kinds.map { count(row.branches[$0] ?? 0, short: row.short[$0] ?? 0) }
                + [count(other(row.branches), short: other(row.short))]
        }
        var lines = [
            Render.bold("jointops board") + "  \(Render.clock(now))  "
                + "\(total.open) open · \(total.late) late · \(total.escalations) escalations (\(total.unacknowledged) unacknowledged)",
            "",
        ]
        if let awaySince {
            lines += [
                Render.red("jointopsd is away since \(Render.clock(awaySince)) (restarting?): reconnecting every second")
                    + " — what follows is as it stood then",
                "",
            ]
        }
        if let storeFault { lines += [Render.storeFault(storeFault), ""] }
        lines += Render.table(["REGION", "OPEN", "LATE", "ESCALATIONS"] + Self.headers + ["OTHER"], rows.map(cells) + [cells(total)])
            .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.append("")
        if late.isEmpty {
            lines.append("No late steps.")
        } else {
            lines.append(Render.bold("LATE STEPS") + " (P1 first, then the longest late, as jointopsctl overdue)")
            let lateRows = late.map { step in
                [
                    step.operation, step.priority ?? "-", step.acknowledged ? "yes" : Render.red("no"), step.region, step.deadline,
                    step.instance ?? "-", Render.time(step.missedAt, now: now), "\(step.rungsFired) rung\(step.rungsFired == 1 ? "" : "s")",
                ]
            }
            lines += Render.table(["OPERATION", "PRIORITY", "ACKNOWLEDGED", "REGION", "DEADLINE", "BRANCH", "MISSED", "LADDER"], lateRows)
                .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        }
        return lines.map { Render.clipped($0, toColumns: width) }.joined(separator: "\n")
    }

    func json(at now: Instant) -> JSONValue {
        let (rows, late) = summary()
        return .object([
            "at": .string(ISO8601.format(now)),
            "storeFault": storeFault ?? .null,
            "regions": .array(
                rows.map { row in
                    .object([
                        "region": .string(row.region), "open": .int(Int64(row.open)), "late": .int(Int64(row.late)),
                        "escalations": .int(Int64(row.escalations)), "unacknowledged": .int(Int64(row.unacknowledged)),
                        "branches": .object(row.branches.mapValues { .int(Int64($0)) }),
                        "unitsShort": .object(row.short.mapValues { .int(Int64($0)) }),
                    ])
                }),
            "late": .array(
                late.map { step in
                    .object([
                        "operation": .string(step.operation), "priority": step.priority.map(JSONValue.string) ?? .null,
                        "region": .string(step.region), "deadline": .string(step.deadline),
                        "instance": step.instance.map(JSONValue.string) ?? .null, "missedAt": step.missedAt ?? .null,
                        "rungsFired": .int(step.rungsFired), "acknowledged": .bool(step.acknowledged),
                    ])
                }),
        ])
    }
}
