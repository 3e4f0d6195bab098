import GRDB
import JointOpsCore

/// Writes the report tables: an operation's facts when it ends (replayed from its events,
/// so the figures agree exactly with the after-action report: ahead of the transaction
/// when the change brings its history, else inside it), and a rating when one is recorded.
enum ReportFactsWriter {
    /// Facts built ahead of the transaction (`Change.factsFromHistory`); nil facts: the
    /// operation did not end after all, as `writeFacts` would find.
    struct Prepared: Sendable {
        var facts: OperationFacts?
    }

    /// Writes what `change` adds to the report tables; true if that took a replay of the log.
    static func write(_ change: EventStore.Change, _ db: Database) throws -> Bool {
        var replayed = false
        for record in change.events {
            switch record.event {
            case .closed, .cancelled:
                if let prepared = change.facts {
                    if let facts = prepared.facts { try insert(facts, db) }
                } else {
                    try writeFacts(of: change.state.id, workflow: change.state.workflow, db)
                    replayed = true
                }
            case .rated(let rating):
                try writeRating(rating, of: change.state, at: record.at, db)
            default:
                break
            }
        }
        return replayed
    }

    /// Facts for every operation that ended before the report tables existed.
    static func backfill(_ db: Database) throws {
        let ended = try Row.fetchAll(
            db,
            sql: """
                SELECT o.id, o.workflow, o.version, w.source FROM operation o
                JOIN workflow_version w ON w.workflow = o.workflow AND w.version = o.version
                WHERE o.ending IS NOT NULL AND o.phase IN ('closed', 'cancelled')
                """)
        var compiled: [String: Workflow] = [:]
        for row in ended {
            let key = "\(row["workflow"] as String)@\(row["version"] as Int)"
            if compiled[key] == nil {
                compiled[key] = WorkflowLoader.load(source: row["source"], file: "stored:\(key)", appliesLaterLimits: false).workflow
            }
            guard let workflow = compiled[key] else { continue }
            // Migration 0003 runs this before 0004 added the unit columns (and no operation
            // had units then; 0009's column comes later still).
            try writeFacts(of: row["id"], workflow: workflow, db, withUnits: false)
        }
    }

    private static func writeFacts(of id: String, workflow: Workflow, _ db: Database, withUnits: Bool = true) throws {
        let stored = try Row.fetchAll(
            db, sql: "SELECT * FROM event WHERE operation_id = ? ORDER BY operation_sequence", arguments: [id]
        ).map(EventStore.storedEvent)
        let replayed = try ReplayedHistory(of: id, stored: stored, workflow: workflow)
        guard let facts = OperationFacts(replayed.state, events: replayed.events) else { return }
        try insert(facts, db, withUnits: withUnits)
    }

    static func insert(_ facts: OperationFacts, _ db: Database, withUnits: Bool = true) throws {
        let id = facts.operation
        try db.execute(
            sql: """
                INSERT INTO report_operation (operation_id, workflow, region, priority, started_at, ended_at, ending, disposition, escalations, start_to_closed_s)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                id, facts.workflow, facts.region, facts.priority, facts.startedAt.milliseconds, facts.endedAt.milliseconds, facts.ending,
                facts.disposition, facts.escalations, facts.startToClosed.map { $0 / 1000 },
            ])
        let branch = try db.cachedStatement(
            sql: withUnits
                ? """
                INSERT INTO report_branch (operation_id, instance, branch, kind, workflow, region, priority, started_at, status,
                    report_to_dispatch_s, dispatch_to_scene_s, scene_to_completed_s, dispatch_to_assigned_s, units_assigned, unit_s,
                    units_short)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
                : """
                INSERT INTO report_branch (operation_id, instance, branch, kind, workflow, region, priority, started_at, status,
                    report_to_dispatch_s, dispatch_to_scene_s, scene_to_completed_s)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for fact in facts.branches {
            var arguments: StatementArguments = [
                id, fact.instance, fact.branch, fact.kind, facts.workflow, facts.region, facts.priority, facts.startedAt.milliseconds,
                fact.status.rawValue, fact.reportToDispatch / 1000, fact.dispatchToScene.map { $0 / 1000 },
                fact.sceneToCompleted.map { $0 / 1000 },
            ]
            if withUnits {
                arguments += [
                    fact.dispatchToAssigned.map { $0 / 1000 }, fact.unitsAssigned, fact.unitMilliseconds / 1000, fact.unitsShort ? 1 : 0,
                ]
            }
            try branch.execute(arguments: arguments)
        }
        let deadline = try db.cachedStatement(
            sql: """
                INSERT INTO report_deadline (operation_id, run, deadline, branch, workflow, region, priority, started_at, outcome, lateness_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for (run, fact) in facts.deadlines.enumerated() {
            try deadline.execute(arguments: [
                id, run + 1, fact.deadline, fact.branch, facts.workflow, facts.region, facts.priority, facts.startedAt.milliseconds,
                fact.outcome.rawValue, fact.latenessMilliseconds,
            ])
        }
    }

    private static func writeRating(_ rating: ServiceRating, of state: OperationState, at: Instant, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO report_rating (operation_id, workflow, region, priority, started_at, rated_at, before, during, after, score, comment)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                state.id, state.workflow.id, state.region, state.priorityLevel, state.startedAt.milliseconds, at.milliseconds,
                rating.before, rating.during, rating.after, rating.score, rating.comment,
            ])
    }
}
