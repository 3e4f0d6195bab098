import GRDB

/// The write path's prepared statements, looked up once per transaction instead of once per
/// change (each lookup hashes the SQL text). Lives only inside one write transaction.
final class WriteStatements {
    private let db: Database
    private var insertEventStatement: Statement?
    private var insertOperationStatement: Statement?
    private var updateOperationStatements: [Statement?] = Array(repeating: nil, count: OperationColumns.all.rawValue + 1)
    private var insertBranchStatement: Statement?
    private var updateBranchStatement: Statement?
    private var upsertStepStatement: Statement?
    private var deleteTimerStatement: Statement?
    private var upsertTimerStatement: Statement?

    init(_ db: Database) { self.db = db }

    private func statement(_ slot: inout Statement?, _ sql: @autoclosure () -> String) throws -> Statement {
        if let statement = slot { return statement }
        let statement = try db.cachedStatement(sql: sql())
        slot = statement
        return statement
    }

    func insertEvent() throws -> Statement {
        try statement(
            &insertEventStatement,
            """
            INSERT INTO event (sequence, operation_id, operation_sequence, at, actor_uid, actor_name, actor_role, kind, payload, previous_hash, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
    }

    func insertOperation() throws -> Statement {
        try statement(
            &insertOperationStatement,
            """
            INSERT INTO operation (id, workflow, version, phase, region, priority, attributes, phase_entered_at, ended_before_phase, started_at, last_change_at, sequence, held_since, hold_reason, hold_paused, ending)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
    }

    /// `UPDATE operation SET last_change_at = ?, sequence = ?, <columns> WHERE id = ?`, the
    /// columns in `OperationColumns` order.
    func updateOperation(_ columns: OperationColumns) throws -> Statement {
        try statement(&updateOperationStatements[columns.rawValue], columns.updateSQL)
    }

    func insertBranch() throws -> Statement {
        try statement(
            &insertBranchStatement,
            """
            INSERT INTO branch (operation_id, position, instance, branch, step, status, region, units, dispatched_at, outcome, assigned_units, missing_units, awaited_capabilities)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
    }

    func updateBranch() throws -> Statement {
        try statement(
            &updateBranchStatement,
            """
            UPDATE branch SET step = ?, status = ?, region = ?, outcome = ?, assigned_units = ?, missing_units = ?, awaited_capabilities = ?
            WHERE operation_id = ? AND position = ?
            """)
    }

    func upsertStep() throws -> Statement {
        try statement(
            &upsertStepStatement,
            """
            INSERT INTO step (operation_id, position, step, entered_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (operation_id, position, step) DO UPDATE SET entered_at = excluded.entered_at
            """)
    }

    func deleteTimer() throws -> Statement {
        try statement(&deleteTimerStatement, "DELETE FROM timer WHERE operation_id = ? AND key = ?")
    }

    func upsertTimer() throws -> Statement {
        try statement(
            &upsertTimerStatement,
            "INSERT INTO timer (operation_id, key, due) VALUES (?, ?, ?) ON CONFLICT (operation_id, key) DO UPDATE SET due = excluded.due")
    }
}

/// The columns of an operation's row a change may touch besides its sequence and last change.
struct OperationColumns: OptionSet {
    let rawValue: Int
    static let phase = OperationColumns(rawValue: 1)
    static let phaseEnteredAt = OperationColumns(rawValue: 2)
    static let region = OperationColumns(rawValue: 4)
    /// held_since, hold_reason, hold_paused.
    static let hold = OperationColumns(rawValue: 8)
    static let ending = OperationColumns(rawValue: 16)
    static let endedBeforePhase = OperationColumns(rawValue: 32)
    /// attributes and priority (the priority is one of the attributes).
    static let attributes = OperationColumns(rawValue: 64)
    static let all: OperationColumns = [.phase, .phaseEnteredAt, .region, .hold, .ending, .endedBeforePhase, .attributes]

    var updateSQL: String {
        var assignments = ["last_change_at = ?", "sequence = ?"]
        if contains(.phase) { assignments.append("phase = ?") }
        if contains(.phaseEnteredAt) { assignments.append("phase_entered_at = ?") }
        if contains(.region) { assignments.append("region = ?") }
        if contains(.hold) { assignments += ["held_since = ?", "hold_reason = ?", "hold_paused = ?"] }
        if contains(.ending) { assignments.append("ending = ?") }
        if contains(.endedBeforePhase) { assignments.append("ended_before_phase = ?") }
        if contains(.attributes) { assignments += ["attributes = ?", "priority = ?"] }
        return "UPDATE operation SET \(assignments.joined(separator: ", ")) WHERE id = ?"
    }
}
