import GRDB
import JointOpsCore

/// Keeps the current-state tables equal to the operation's state, writing only the rows
/// a change touched.
enum ProjectionWriter {
    static func write(_ change: EventStore.Change, _ db: Database) throws {
        let state = change.state
        let before = change.before
        let workflow = state.workflow
        let operationStatement = try db.cachedStatement(
            sql: """
                INSERT INTO operation (id, workflow, version, phase, region, priority, attributes, phase_entered_at, started_at, last_change_at, sequence, held_since, hold_reason, hold_paused, ending)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET phase = excluded.phase, region = excluded.region, phase_entered_at = excluded.phase_entered_at,
                    last_change_at = excluded.last_change_at, sequence = excluded.sequence, held_since = excluded.held_since,
                    hold_reason = excluded.hold_reason, hold_paused = excluded.hold_paused, ending = excluded.ending
                """)
        var operation = RawStatement(operationStatement, db)
        operation.bind(state.id)
        operation.bind(workflow.id)
        operation.bind(workflow.version)
        operation.bind(state.phaseName)
        operation.bind(state.region)
        operation.bind(state.priorityLevel)
        operation.bind(before == nil ? attributesJSON(state) : "")
        operation.bind(ProjectionCodec.instantsJSON(state.phaseEnteredAt))
        operation.bind(state.startedAt.milliseconds)
        operation.bind(state.lastChangeAt.milliseconds)
        operation.bind(state.sequence)
        operation.bind(state.hold?.since.milliseconds)
        operation.bind(state.hold?.reason)
        operation.bind(state.hold.map { $0.clockPaused ? 1 : 0 })
        operation.bind(state.ending)
        try operation.run()
        // A new branch instance is inserted, a known one updated: an upsert here would need
        // two ephemeral tables per row (the table has two unique keys), which showed as a
        // quarter of the writer's time in profiles.
        let insertBranch = try db.cachedStatement(
            sql: """
                INSERT INTO branch (operation_id, position, instance, branch, step, status, region, units, dispatched_at, outcome, assigned_units, missing_units, awaited_capabilities)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        let updateBranch = try db.cachedStatement(
            sql: """
                UPDATE branch SET step = ?, status = ?, region = ?, outcome = ?, assigned_units = ?, missing_units = ?, awaited_capabilities = ?
                WHERE operation_id = ? AND position = ?
                """)
        let stepStatement = try db.cachedStatement(
            sql: """
                INSERT INTO step (operation_id, position, step, entered_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (operation_id, position, step) DO UPDATE SET entered_at = excluded.entered_at
                """)
        for (position, instance) in state.branches.enumerated() {
            let old = before.flatMap { position < $0.branches.count ? $0.branches[position] : nil }
            guard old != instance else { continue }
            let definition = workflow.branches[instance.definition]
            let stepName = definition.steps[instance.step].name
            let assigned = JSONValue.array(instance.assignedUnits.map(JSONValue.string)).canonical
            let awaited = JSONValue.array(instance.awaitedCapabilities.map(JSONValue.string)).canonical
            if old == nil {
                var branch = RawStatement(insertBranch, db)
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
                var branch = RawStatement(updateBranch, db)
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
                var row = RawStatement(stepStatement, db)
                row.bind(state.id)
                row.bind(position)
                row.bind(definition.steps[step].name)
                row.bind(entered!.milliseconds)
                try row.run()
            }
        }
        try UnitWriter.write(change.units, db)
        try writeTimers(state, before: before, db)
        try writeEscalations(state, before: before, db)
    }

    private static func writeTimers(_ state: OperationState, before: OperationState?, _ db: Database) throws {
        let old = before?.timers ?? []
        guard old != state.timers else { return }
        let delete = try db.cachedStatement(sql: "DELETE FROM timer WHERE operation_id = ? AND key = ?")
        let upsert = try db.cachedStatement(
            sql:
                "INSERT INTO timer (operation_id, key, due) VALUES (?, ?, ?) ON CONFLICT (operation_id, key) DO UPDATE SET due = excluded.due"
        )
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
