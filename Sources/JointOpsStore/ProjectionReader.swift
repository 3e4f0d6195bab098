import Foundation
import GRDB
import JointOpsCore

/// Rebuilds operations from the current-state tables, in bulk: one scan per table, not one
/// query per operation, so recovery of many open operations stays fast.
enum ProjectionReader {
    /// Which operations a read takes.
    enum Scope: Sendable {
        /// Every operation, open or ended.
        case all
        /// The open operations whose ids are at least `from` and below `below` (either
        /// bound may be absent): recovery reads parts of them at once on several readers.
        case open(from: String? = nil, below: String? = nil)
        /// The one operation with this id.
        case one(String)
        /// The `limit` ended (closed or cancelled) operations that started last before
        /// `before` (by start, then id; all of them if nil): one page of `List`, newest first.
        case ended(before: OperationListKey?, limit: Int)

        /// `WHERE …` for `operation`'s rows, "" for all of them.
        var operationFilter: String {
            switch self {
            case .all: ""
            case .ended: "WHERE id IN (\(endedPage))"
            default: "WHERE " + conditions(id: "id", ending: "ending")
            }
        }

        /// `JOIN operation …` limiting a child table (`t`)'s rows, "" for all of them.
        var childJoin: String {
            switch self {
            case .all: ""
            case .ended: "JOIN (\(endedPage)) o ON o.id = t.operation_id"
            default: "JOIN operation o ON o.id = t.operation_id AND " + conditions(id: "t.operation_id", ending: "o.ending")
            }
        }

        /// The values of the `?`s in either, in order.
        var arguments: [any DatabaseValueConvertible] {
            switch self {
            case .all: []
            case .one(let id): [id]
            case .open(let from, let below): [from, below].compactMap { $0 }
            case .ended(let before?, let limit): [before.startedAt.milliseconds, before.id, limit]
            case .ended(nil, let limit): [limit]
            }
        }

        /// The ids of an `.ended` page, through the index on the start time.
        private var endedPage: String {
            guard case .ended(let before, _) = self else { return "" }
            return "SELECT id FROM operation WHERE ending IS NOT NULL \(before == nil ? "" : "AND (started_at, id) < (?, ?) ")"
                + "ORDER BY started_at DESC, id DESC LIMIT ?"
        }

        private func conditions(id: String, ending: String) -> String {
            switch self {
            case .all, .ended: "1"
            case .one: "\(id) = ?"
            case .open(let from, let below):
                (["\(ending) IS NULL"] + (from == nil ? [] : ["\(id) >= ?"]) + (below == nil ? [] : ["\(id) < ?"]))
                    .joined(separator: " AND ")
            }
        }
    }

    /// Snapshots of the operations in `scope`, ordered by when they started.
    ///
    /// Columns are read by position straight from SQLite (`RawRows`), not through GRDB rows
    /// looked up by name, and the rows of each child table come grouped by operation, so an
    /// operation is found once per group rather than once per row: recovery of 100,000
    /// operations spent most of its time in those lookups.
    static func snapshots(_ db: Database, workflows: [WorkflowKey: Workflow], scope: Scope) throws -> [OperationSnapshot] {
        // Ids are bound, never spliced into the SQL (they are whatever a caller typed).
        let scopeSQL = scope.operationFilter
        let joinScope = scope.childJoin
        // Snapshots live in an array and are changed in place (no copy per row).
        var snapshots: [OperationSnapshot] = []
        var compiled: [Workflow] = []
        var index = OperationIndex()
        var last: (key: WorkflowKey, workflow: Workflow)?
        try rows(
            """
            SELECT id, workflow, version, phase, region, attributes, phase_entered_at, started_at, last_change_at, sequence,
                held_since, hold_reason, hold_paused, ending, ended_before_phase
            FROM operation \(scopeSQL) ORDER BY started_at, id
            """, db, scope.arguments
        ) { row in
            let key = WorkflowKey(row.text(1), Int(row.int(2)))
            let workflow: Workflow
            if let last, last.key == key {
                workflow = last.workflow
            } else {
                let id = row.text(0)
                guard let found = workflows[key] else { throw invalid("operation \(id) uses workflow \(key), which is not stored") }
                workflow = found
                last = (key, found)
            }
            let snapshot = try operation(row, workflow)
            index.positions[snapshot.id] = snapshots.count
            snapshots.append(snapshot)
            compiled.append(workflow)
        }
        try rows(
            """
            SELECT t.operation_id, t.position, t.instance, t.branch, t.step, t.status, t.region, t.units, t.dispatched_at, t.outcome,
                t.assigned_units, t.missing_units, t.awaited_capabilities
            FROM branch t \(joinScope) ORDER BY t.operation_id, t.position
            """, db, scope.arguments
        ) { row in
            guard let at = index.position(row, 0) else { return }
            snapshots[at].branches.append(try branch(row, compiled[at], operation: snapshots[at].id))
        }
        try rows("SELECT t.operation_id, t.position, t.step, t.entered_at FROM step t \(joinScope)", db, scope.arguments) { row in
            let position = Int(row.int(1))
            guard let at = index.position(row, 0), position < snapshots[at].branches.count,
                let step = compiled[at].branches[snapshots[at].branches[position].definition].step(named: row.text(2))
            else { throw invalid("step row (\(row.text(0)), \(position), \(row.text(2))) does not fit its operation") }
            snapshots[at].branches[position].stepEnteredAt[step] = Instant(milliseconds: row.int(3))
        }
        try rows("SELECT t.operation_id, t.key, t.due FROM timer t \(joinScope) ORDER BY t.operation_id", db, scope.arguments) { row in
            guard let at = index.position(row, 0), let key = row.withBytes(1, timerKey) ?? TimerKey(row.text(1)) else {
                throw invalid("timer row (\(row.text(0)), \(row.text(1))) is malformed")
            }
            snapshots[at].timers.append(ArmedTimer(key: key, due: Instant(milliseconds: row.int(2))))
        }
        try rows(
            """
            SELECT t.operation_id, t.number, t.timer_key, t.reason, t.opened_at, t.ladder_base, t.rungs_fired, t.acknowledged_at,
                t.resolved_at
            FROM escalation t \(joinScope) ORDER BY t.operation_id, t.number
            """, db, scope.arguments
        ) { row in
            guard let at = index.position(row, 0) else { return }
            snapshots[at].escalations.append(
                Escalation(
                    number: Int(row.int(1)), timer: row.optionalText(2).flatMap(TimerKey.init), reason: row.text(3),
                    openedAt: Instant(milliseconds: row.int(4)), ladderBase: Instant(milliseconds: row.int(5)),
                    rungsFired: Int(row.int(6)), acknowledgedAt: row.optionalInt(7).map(Instant.init(milliseconds:)),
                    resolvedAt: row.optionalInt(8).map(Instant.init(milliseconds:))))
        }
        for at in snapshots.indices where snapshots[at].timers.count > 1 { snapshots[at].timers.sort { $0.key < $1.key } }
        return snapshots
    }

    /// Runs `sql` with `arguments` bound to its `?`s.
    private static func rows(
        _ sql: String, _ db: Database, _ arguments: [any DatabaseValueConvertible], _ body: (RawRows) throws -> Void
    ) throws {
        let statement = try db.makeStatement(sql: sql)
        if !arguments.isEmpty { try statement.setArguments(StatementArguments(arguments)) }
        try RawRows(statement, db).forEach(body)
    }

    /// Operation ids to their snapshot's position; child rows come grouped by operation, so
    /// the last answer is kept and reused while the id stays the same.
    private struct OperationIndex {
        var positions: [String: Int] = [:]
        private var lastID: [UInt8] = []
        private var lastPosition: Int?
        private var hasLast = false

        mutating func position(_ row: RawRows, _ column: Int32) -> Int? {
            row.withBytes(column) { bytes in
                if hasLast, bytes.count == lastID.count, bytes.elementsEqual(lastID) { return lastPosition }
                lastID = Array(bytes)
                lastPosition = positions[String(decoding: bytes, as: UTF8.self)]
                hasLast = true
                return lastPosition
            }
        }
    }

    /// `deadline:3:-1` read without building strings; nil when it is not in that exact form.
    private static func timerKey(_ bytes: UnsafeBufferPointer<UInt8>) -> TimerKey? {
        guard let first = bytes.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let kind: TimerKey.Kind
        switch first {
        case 8 where bytes.starts(with: "deadline".utf8): kind = .deadline
        case 5 where bytes.starts(with: "phase".utf8): kind = .phase
        default: return nil
        }
        var position = first + 1
        func integer() -> Int? {
            let negative = position < bytes.count && bytes[position] == UInt8(ascii: "-")
            if negative { position += 1 }
            let start = position
            var value = 0
            while position < bytes.count, bytes[position] >= UInt8(ascii: "0"), bytes[position] <= UInt8(ascii: "9") {
                guard position - start < 18 else { return nil }  // no overflow: leave long numbers to TimerKey(String)
                value = value * 10 + Int(bytes[position] - UInt8(ascii: "0"))
                position += 1
            }
            guard position > start else { return nil }
            return negative ? -value : value
        }
        guard let index = integer(), position < bytes.count, bytes[position] == UInt8(ascii: ":") else { return nil }
        position += 1
        guard let instance = integer(), position == bytes.count else { return nil }
        return TimerKey(kind: kind, index: index, instance: instance)
    }

    private static func operation(_ row: RawRows, _ workflow: Workflow) throws -> OperationSnapshot {
        let id = row.text(0)
        let phaseName = row.text(3)
        let phase: PhaseRef
        switch phaseName {
        case "closed": phase = .closed
        case "cancelled": phase = .cancelled
        default:
            guard let index = workflow.phase(named: phaseName) else { throw invalid("operation \(id) is in unknown phase '\(phaseName)'") }
            phase = .phase(index)
        }
        var attributes = [AttributeValue?](repeating: nil, count: workflow.attributes.count)
        guard case .object(let members)? = try? JSONParser.parse(row.text(5)) else {
            throw invalid("operation \(id) has malformed attributes")
        }
        for (name, value) in members {
            guard let index = workflow.attribute(named: name), let parsed = AttributeValue(json: value, as: workflow.attributes[index].type)
            else {
                throw invalid("operation \(id) has an attribute '\(name)' that does not fit its workflow")
            }
            attributes[index] = parsed
        }
        guard
            let entered = row.withBytes(6, { ProjectionCodec.instants($0, count: workflow.phases.count) })
                ?? ProjectionCodec.instants(row.text(6), count: workflow.phases.count)
        else {
            throw invalid("operation \(id) has malformed phase times")
        }
        var endedBeforePhase: [Int]?
        if let text = row.optionalText(14) {
            guard let positions = ProjectionCodec.positions(text) else { throw invalid("operation \(id) has malformed ended_before_phase") }
            endedBeforePhase = positions
        }
        let hold = row.optionalInt(10).map {
            HoldState(since: Instant(milliseconds: $0), reason: row.text(11), clockPaused: row.optionalInt(12) == 1)
        }
        return OperationSnapshot(
            id: id, workflow: workflow.id, version: workflow.version, phase: phase, attributes: attributes, region: row.text(4),
            branches: [], startedAt: Instant(milliseconds: row.int(7)), phaseEnteredAt: entered, endedBeforePhase: endedBeforePhase,
            hold: hold, timers: [],
            escalations: [], sequence: Int(row.int(9)), lastChangeAt: Instant(milliseconds: row.int(8)), ending: row.optionalText(13))
    }

    private static func branch(_ row: RawRows, _ workflow: Workflow, operation: String) throws -> BranchInstance {
        let name = row.text(2)
        guard let definition = workflow.branch(named: row.text(3)), let step = workflow.branches[definition].step(named: row.text(4)),
            let status = BranchStatus(rawValue: row.text(5))
        else { throw invalid("branch row (\(operation), \(name)) does not fit workflow '\(workflow.id)'") }
        return BranchInstance(
            name: name, definition: definition, step: step, status: status, region: row.text(6), units: Int(row.int(7)),
            dispatchedAt: Instant(milliseconds: row.int(8)),
            stepEnteredAt: Array(repeating: nil, count: workflow.branches[definition].steps.count), outcome: row.optionalText(9),
            assignedUnits: try units(row, 10, operation, name), missingUnits: Int(row.int(11)),
            requiredCapabilities: try units(row, 12, operation, name))
    }

    /// A JSON array of strings; `[]` (the common case) needs no parsing.
    private static func units(_ row: RawRows, _ column: Int32, _ operation: String, _ instance: String) throws -> [String] {
        if row.withBytes(column, { $0.count == 2 && $0[0] == UInt8(ascii: "[") && $0[1] == UInt8(ascii: "]") }) { return [] }
        guard let items = (try? JSONParser.parse(row.text(column)))?.arrayValue else {
            throw invalid("branch row (\(operation), \(instance)) has malformed units")
        }
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
