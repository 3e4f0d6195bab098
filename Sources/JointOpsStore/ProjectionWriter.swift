import GRDB
import GRDBSQLite
import JointOpsCore

/// Keeps the current-state tables equal to the operation's state, writing only the rows
/// a change touched.
enum ProjectionWriter {
    static func write(_ change: EventStore.Change, _ db: Database, _ statements: WriteStatements) throws {
        let state = change.state
        let before = change.before
        let workflow = state.workflow
        if let before {
            try update(state, before: before, db, statements)
        } else {
            var operation = RawStatement(try statements.insertOperation(), db)
            operation.bind(state.id)
            operation.bind(workflow.id)
            operation.bind(workflow.version)
            operation.bind(state.phaseName)
            operation.bind(state.region)
            operation.bind(state.priorityLevel)
            operation.bind(attributesJSON(state))
            operation.bind(ProjectionCodec.instantsJSON(state.phaseEnteredAt))
            operation.bind(ProjectionCodec.positionsJSON(state.endedBeforePhase))
            operation.bind(state.startedAt.milliseconds)
            operation.bind(state.lastChangeAt.milliseconds)
            operation.bind(state.sequence)
            operation.bind(state.hold?.since.milliseconds)
            operation.bind(state.hold?.reason)
            operation.bind(state.hold.map { $0.clockPaused ? 1 : 0 })
            operation.bind(state.ending)
            try operation.run()
        }
        // A new branch instance is inserted, a known one updated: an upsert here would need
        // two ephemeral tables per row (the table has two unique keys), which showed as a
        // quarter of the writer's time in profiles.
        for (position, instance) in state.branches.enumerated() {
            let old = before.flatMap { position < $0.branches.count ? $0.branches[position] : nil }
            guard old != instance else { continue }
            let definition = workflow.branches[instance.definition]
            let stepName = definition.steps[instance.step].name
            let assigned = unitsJSON(instance.assignedUnits)
            let awaited = unitsJSON(instance.requiredCapabilities)
            if old == nil {
                var branch = RawStatement(try statements.insertBranch(), db)
                branch.bind(state.id)
                branch.bind(position)
                branch.bind(instance.name)
                branch.bind(definition.name)
                branch.bind(stepName)
                branch.bind(instance.status.rawValue)
                branch.bind(instance.region)
                branch.bind(instance.units)
                branch.bind(instance.dispatchedAt.milliseconds)
                branch.bind(instance.outcome)
                branch.bind(assigned)
                branch.bind(instance.missingUnits)
                branch.bind(awaited)
                try branch.run()
            } else {
                var branch = RawStatement(try statements.updateBranch(), db)
                branch.bind(stepName)
                branch.bind(instance.status.rawValue)
                branch.bind(instance.region)
                branch.bind(instance.outcome)
                branch.bind(assigned)
                branch.bind(instance.missingUnits)
                branch.bind(awaited)
                branch.bind(state.id)
                branch.bind(position)
                try branch.run()
            }
            for (step, entered) in instance.stepEnteredAt.enumerated() where entered != nil && entered != old?.stepEnteredAt[step] {
                var row = RawStatement(try statements.upsertStep(), db)
                row.bind(state.id)
                row.bind(position)
                row.bind(definition.steps[step].name)
                row.bind(entered!.milliseconds)
                try row.run()
            }
        }
        try UnitWriter.write(change.units, db)
        try writeTimers(state, before: before, db, statements)
        try writeEscalations(state, before: before, db)
    }

    /// The operation's row when it existed before the change: only the columns the change
    /// touched (always its sequence and last change). An upsert of every column cost an
    /// attempted insert, the phase times rebuilt as JSON, and the upkeep of the indexes on
    /// region and ending for every change.
    private static func update(_ state: OperationState, before: OperationState, _ db: Database, _ statements: WriteStatements) throws {
        var columns = OperationColumns()
        if state.phase != before.phase { columns.insert(.phase) }
        if state.phaseEnteredAt != before.phaseEnteredAt { columns.insert(.phaseEnteredAt) }
        if state.region != before.region { columns.insert(.region) }
        if state.hold != before.hold { columns.insert(.hold) }
        if state.ending != before.ending { columns.insert(.ending) }
        if state.endedBeforePhase != before.endedBeforePhase { columns.insert(.endedBeforePhase) }
        if state.attributes != before.attributes { columns.insert(.attributes) }
        var operation = RawStatement(try statements.updateOperation(columns), db)
        operation.bind(state.lastChangeAt.milliseconds)
        operation.bind(state.sequence)
        if columns.contains(.phase) { operation.bind(state.phaseName) }
        if columns.contains(.phaseEnteredAt) { operation.bind(ProjectionCodec.instantsJSON(state.phaseEnteredAt)) }
        if columns.contains(.region) { operation.bind(state.region) }
        if columns.contains(.hold) {
            operation.bind(state.hold?.since.milliseconds)
            operation.bind(state.hold?.reason)
            operation.bind(state.hold.map { $0.clockPaused ? 1 : 0 })
        }
        if columns.contains(.ending) { operation.bind(state.ending) }
        if columns.contains(.endedBeforePhase) { operation.bind(ProjectionCodec.positionsJSON(state.endedBeforePhase)) }
        if columns.contains(.attributes) {
            operation.bind(attributesJSON(state))
            operation.bind(state.priorityLevel)
        }
        operation.bind(state.id)
        try operation.run()
        guard sqlite3_changes(db.sqliteConnection) == 1 else {
            throw StoreError(.invalidData, "operation \(state.id) is not in the projection, yet the change says it existed before")
        }
    }

    /// `[]` without building JSON, the common case.
    private static func unitsJSON(_ units: [String]) -> String {
        units.isEmpty ? "[]" : JSONValue.array(units.map(JSONValue.string)).canonical
    }

    private static func writeTimers(
        _ state: OperationState, before: OperationState?, _ db: Database, _ statements: WriteStatements
    ) throws {
        let old = before?.timers ?? []
        guard old != state.timers else { return }
        let delete = try statements.deleteTimer()
        let upsert = try statements.upsertTimer()
        for timer in old where !state.timers.contains(where: { $0.key == timer.key }) {
            var row = RawStatement(delete, db)
            row.bind(state.id)
            row.bind(timer.key.description)
            try row.run()
        }
        for timer in state.timers where !old.contains(timer) {
            var row = RawStatement(upsert, db)
            row.bind(state.id)
            row.bind(timer.key.description)
            row.bind(timer.due.milliseconds)
            try row.run()
        }
    }

    private static func writeEscalations(_ state: OperationState, before: OperationState?, _ db: Database) throws {
        let old = before?.escalations ?? []
        guard old != state.escalations else { return }
        let upsert = try db.cachedStatement(
            sql: """
                INSERT INTO escalation (operation_id, number, timer_key, reason, opened_at, ladder_base, rungs_fired, acknowledged_at, resolved_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (operation_id, number) DO UPDATE SET ladder_base = excluded.ladder_base, rungs_fired = excluded.rungs_fired,
                    acknowledged_at = excluded.acknowledged_at, resolved_at = excluded.resolved_at
                """)
        for (index, escalation) in state.escalations.enumerated() where index >= old.count || old[index] != escalation {
            try upsert.execute(arguments: [
                state.id, escalation.number, escalation.timer?.description, escalation.reason, escalation.openedAt.milliseconds,
                escalation.ladderBase.milliseconds, escalation.rungsFired, escalation.acknowledgedAt?.milliseconds,
                escalation.resolvedAt?.milliseconds,
            ])
        }
    }

    static func attributesJSON(_ state: OperationState) -> String {
        var members: [String: JSONValue] = [:]
        for (index, value) in state.attributes.enumerated() {
            guard let value else { continue }
            members[state.workflow.attributes[index].name] = value.json
        }
        return JSONValue.object(members).canonical
    }
}
