import Foundation
import GRDB
import JointOpsCore

/// Rebuilds operations from the current-state tables, in bulk: one scan per table, not one
/// query per operation, so recovery of many open operations stays fast.
enum ProjectionReader {
    /// Snapshots of the operations matching `filter` (a WHERE clause on `operation`).
    static func snapshots(
        _ db: Database, workflows: [WorkflowKey: Workflow], openOnly: Bool, id: String? = nil
    ) throws -> [OperationSnapshot] {
        let quoted = id.map { "'" + $0.replacingOccurrences(of: "'", with: "''") + "'" }
        let scope = quoted.map { "WHERE id = \($0)" } ?? (openOnly ? "WHERE ending IS NULL" : "")
        let joinScope =
            quoted.map { "JOIN operation o ON o.id = t.operation_id AND o.id = \($0)" }
            ?? (openOnly ? "JOIN operation o ON o.id = t.operation_id AND o.ending IS NULL" : "")
        // Snapshots live in an array and are changed in place (no copy per row).
        var snapshots: [OperationSnapshot] = []
        var compiled: [Workflow] = []
        var index: [String: Int] = [:]
        let operations = try Row.fetchCursor(db, sql: "SELECT * FROM operation \(scope) ORDER BY started_at, id")
        while let row = try operations.next() {
            let (snapshot, workflow) = try operation(row, workflows)
            index[snapshot.id] = snapshots.count
            snapshots.append(snapshot)
            compiled.append(workflow)
        }
        let branches = try Row.fetchCursor(db, sql: "SELECT t.* FROM branch t \(joinScope) ORDER BY t.operation_id, t.position")
        while let row = try branches.next() {
            guard let at = index[row["operation_id"]] else { continue }
            snapshots[at].branches.append(try branch(row, compiled[at]))
        }
        let steps = try Row.fetchCursor(db, sql: "SELECT t.* FROM step t \(joinScope)")
        while let row = try steps.next() {
            let position: Int = row["position"]
            guard let at = index[row["operation_id"]], position < snapshots[at].branches.count,
                let step = compiled[at].branches[snapshots[at].branches[position].definition].step(named: row["step"])
            else { throw invalid("step row \(row) does not fit its operation") }
            snapshots[at].branches[position].stepEnteredAt[step] = Instant(milliseconds: row["entered_at"])
        }
        let timers = try Row.fetchCursor(db, sql: "SELECT t.* FROM timer t \(joinScope) ORDER BY t.operation_id")
        while let row = try timers.next() {
            guard let at = index[row["operation_id"]], let key = TimerKey(row["key"] as String) else {
                throw invalid("timer row \(row) is malformed")
            }
            snapshots[at].timers.append(ArmedTimer(key: key, due: Instant(milliseconds: row["due"])))
        }
        let escalations = try Row.fetchCursor(db, sql: "SELECT t.* FROM escalation t \(joinScope) ORDER BY t.operation_id, t.number")
        while let row = try escalations.next() {
            guard let at = index[row["operation_id"]] else { continue }
            snapshots[at].escalations.append(
                Escalation(
                    number: row["number"], timer: (row["timer_key"] as String?).flatMap(TimerKey.init), reason: row["reason"],
                    openedAt: Instant(milliseconds: row["opened_at"]), ladderBase: Instant(milliseconds: row["ladder_base"]),
                    rungsFired: row["rungs_fired"], acknowledgedAt: (row["acknowledged_at"] as Int64?).map(Instant.init(milliseconds:)),
                    resolvedAt: (row["resolved_at"] as Int64?).map(Instant.init(milliseconds:))))
        }
        for at in snapshots.indices { snapshots[at].timers.sort { $0.key < $1.key } }
        return snapshots
    }

    private static func operation(_ row: Row, _ workflows: [WorkflowKey: Workflow]) throws -> (OperationSnapshot, Workflow) {
        let id: String = row["id"]
        let key = WorkflowKey(row["workflow"], row["version"])
        guard let workflow = workflows[key] else { throw invalid("operation \(id) uses workflow \(key), which is not stored") }
        let phaseName: String = row["phase"]
        let phase: PhaseRef
        switch phaseName {
        case "closed": phase = .closed
        case "cancelled": phase = .cancelled
        default:
            guard let index = workflow.phase(named: phaseName) else { throw invalid("operation \(id) is in unknown phase '\(phaseName)'") }
            phase = .phase(index)
        }
        var attributes = [AttributeValue?](repeating: nil, count: workflow.attributes.count)
        guard case .object(let members)? = try? JSONParser.parse(row["attributes"]) else {
            throw invalid("operation \(id) has malformed attributes")
        }
        for (name, value) in members {
            guard let index = workflow.attribute(named: name), let parsed = AttributeValue(json: value, as: workflow.attributes[index].type)
            else {
                throw invalid("operation \(id) has an attribute '\(name)' that does not fit its workflow")
            }
            attributes[index] = parsed
        }
        guard let entered = ProjectionCodec.instants(row["phase_entered_at"], count: workflow.phases.count) else {
            throw invalid("operation \(id) has malformed phase times")
        }
        let hold = (row["held_since"] as Int64?).map {
            HoldState(since: Instant(milliseconds: $0), reason: row["hold_reason"], clockPaused: (row["hold_paused"] as Int?) == 1)
        }
        let snapshot = OperationSnapshot(
            id: id, workflow: workflow.id, version: workflow.version, phase: phase, attributes: attributes, region: row["region"],
            branches: [], startedAt: Instant(milliseconds: row["started_at"]), phaseEnteredAt: entered, hold: hold, timers: [],
            escalations: [], sequence: row["sequence"], lastChangeAt: Instant(milliseconds: row["last_change_at"]), ending: row["ending"])
        return (snapshot, workflow)
    }

    private static func branch(_ row: Row, _ workflow: Workflow) throws -> BranchInstance {
        guard let definition = workflow.branch(named: row["branch"]), let step = workflow.branches[definition].step(named: row["step"]),
            let status = BranchStatus(rawValue: row["status"])
        else { throw invalid("branch row \(row) does not fit workflow '\(workflow.id)'") }
        return BranchInstance(
            name: row["instance"], definition: definition, step: step, status: status, region: row["region"], units: row["units"],
            dispatchedAt: Instant(milliseconds: row["dispatched_at"]),
            stepEnteredAt: Array(repeating: nil, count: workflow.branches[definition].steps.count), outcome: row["outcome"],
            assignedUnits: try units(row["assigned_units"], row), missingUnits: row["missing_units"],
            awaitedCapabilities: try units(row["awaited_capabilities"], row))
    }

    private static func units(_ text: String, _ row: Row) throws -> [String] {
        guard let items = (try? JSONParser.parse(text))?.arrayValue else { throw invalid("branch row \(row) has malformed units") }
        return items.compactMap(\.stringValue)
    }

    static func invalid(_ message: String) -> StoreError {
        StoreError(
            .invalidData,
            "the projection is inconsistent: \(message); rebuild it from the event log (jointopsctl store rebuild) or restore a backup")
    }
}

/// A workflow version's identity.
struct WorkflowKey: Hashable, CustomStringConvertible {
    var id: String
    var version: Int
    init(_ id: String, _ version: Int) {
        self.id = id
        self.version = version
    }
    var description: String { "'\(id)' v\(version)" }
}
