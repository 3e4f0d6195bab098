import GRDB

/// The store's schema. Migrations are named and only ever appended: never edit one that
/// has shipped; add the next.
enum StoreSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("0001 event log, workflow versions and current-state projection") { db in
            try db.execute(
                sql: """
                    CREATE TABLE workflow_version (
                        workflow     TEXT    NOT NULL CHECK (length(workflow) > 0),
                        version      INTEGER NOT NULL CHECK (version >= 1),
                        content_hash TEXT    NOT NULL CHECK (length(content_hash) = 64),
                        source       TEXT    NOT NULL,
                        loaded_at    INTEGER NOT NULL,
                        PRIMARY KEY (workflow, version)
                    ) STRICT;

                    CREATE TABLE event (
                        sequence           INTEGER PRIMARY KEY CHECK (sequence >= 1),
                        operation_id       TEXT    NOT NULL,
                        operation_sequence INTEGER NOT NULL CHECK (operation_sequence >= 1),
                        at                 INTEGER NOT NULL,
                        actor_uid          INTEGER,
                        actor_name         TEXT,
                        actor_role         TEXT,
                        kind               TEXT    NOT NULL,
                        payload            TEXT    NOT NULL,
                        previous_hash      BLOB    NOT NULL CHECK (length(previous_hash) = 32),
                        hash               BLOB    NOT NULL CHECK (length(hash) = 32),
                        UNIQUE (operation_id, operation_sequence),
                        CHECK ((actor_uid IS NULL) = (actor_name IS NULL) AND (actor_uid IS NULL) = (actor_role IS NULL))
                    ) STRICT;
                    CREATE TRIGGER event_is_append_only_update BEFORE UPDATE ON event
                        BEGIN SELECT RAISE(ABORT, 'the event log is append-only: events cannot be changed'); END;
                    CREATE TRIGGER event_is_append_only_delete BEFORE DELETE ON event
                        BEGIN SELECT RAISE(ABORT, 'the event log is append-only: events cannot be deleted'); END;

                    CREATE TABLE operation (
                        id               TEXT    PRIMARY KEY,
                        workflow         TEXT    NOT NULL,
                        version          INTEGER NOT NULL,
                        phase            TEXT    NOT NULL,
                        region           TEXT    NOT NULL,
                        priority         INTEGER CHECK (priority BETWEEN 1 AND 4),
                        attributes       TEXT    NOT NULL,
                        phase_entered_at TEXT    NOT NULL,
                        started_at       INTEGER NOT NULL,
                        last_change_at   INTEGER NOT NULL,
                        sequence         INTEGER NOT NULL CHECK (sequence >= 1),
                        held_since       INTEGER,
                        hold_reason      TEXT,
                        hold_paused      INTEGER CHECK (hold_paused IN (0, 1)),
                        ending           TEXT,
                        FOREIGN KEY (workflow, version) REFERENCES workflow_version (workflow, version),
                        CHECK ((held_since IS NULL) = (hold_reason IS NULL))
                    ) STRICT;
                    CREATE INDEX operation_open ON operation (id) WHERE ending IS NULL;

                    CREATE TABLE branch (
                        operation_id  TEXT    NOT NULL REFERENCES operation (id),
                        position      INTEGER NOT NULL CHECK (position >= 0),
                        instance      TEXT    NOT NULL,
                        branch        TEXT    NOT NULL,
                        step          TEXT    NOT NULL,
                        status        TEXT    NOT NULL CHECK (status IN ('active', 'completed', 'failed', 'stood_down')),
                        region        TEXT    NOT NULL,
                        units         INTEGER NOT NULL CHECK (units >= 1),
                        dispatched_at INTEGER NOT NULL,
                        outcome       TEXT,
                        PRIMARY KEY (operation_id, position),
                        UNIQUE (operation_id, instance)
                    ) STRICT, WITHOUT ROWID;

                    CREATE TABLE step (
                        operation_id TEXT    NOT NULL,
                        position     INTEGER NOT NULL,
                        step         TEXT    NOT NULL,
                        entered_at   INTEGER NOT NULL,
                        PRIMARY KEY (operation_id, position, step),
                        FOREIGN KEY (operation_id, position) REFERENCES branch (operation_id, position)
                    ) STRICT, WITHOUT ROWID;

                    CREATE TABLE timer (
                        operation_id TEXT    NOT NULL REFERENCES operation (id),
                        key          TEXT    NOT NULL,
                        due          INTEGER NOT NULL,
                        PRIMARY KEY (operation_id, key)
                    ) STRICT, WITHOUT ROWID;
                    CREATE INDEX timer_by_due ON timer (due);

                    CREATE TABLE escalation (
                        operation_id    TEXT    NOT NULL REFERENCES operation (id),
                        number          INTEGER NOT NULL CHECK (number >= 1),
                        timer_key       TEXT,
                        reason          TEXT    NOT NULL,
                        opened_at       INTEGER NOT NULL,
                        ladder_base     INTEGER NOT NULL,
                        rungs_fired     INTEGER NOT NULL CHECK (rungs_fired >= 0),
                        acknowledged_at INTEGER,
                        resolved_at     INTEGER,
                        PRIMARY KEY (operation_id, number)
                    ) STRICT, WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("0002 client requests for idempotent retries") { db in
            try db.execute(
                sql: """
                    CREATE TABLE client_request (
                        id           TEXT    PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 200),
                        operation_id TEXT    NOT NULL,
                        method       TEXT    NOT NULL,
                        reply        TEXT    NOT NULL,
                        at           INTEGER NOT NULL
                    ) STRICT, WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("0003 report facts and service ratings") { db in
            // Report tables are clustered by the operation's start, so a period is one
            // range scan; intervals are in whole seconds (what the reports resolve).
            try db.execute(
                sql: """
                    CREATE INDEX operation_started ON operation (started_at, region, workflow, priority);

                    CREATE TABLE report_operation (
                        started_at        INTEGER NOT NULL,
                        operation_id      TEXT    NOT NULL UNIQUE REFERENCES operation (id),
                        workflow          TEXT    NOT NULL,
                        region            TEXT    NOT NULL,
                        priority          INTEGER CHECK (priority BETWEEN 1 AND 4),
                        ended_at          INTEGER NOT NULL CHECK (ended_at >= started_at),
                        ending            TEXT    NOT NULL CHECK (ending IN ('closed', 'cancelled')),
                        disposition       TEXT    NOT NULL,
                        escalations       INTEGER NOT NULL CHECK (escalations >= 0),
                        start_to_closed_s INTEGER CHECK (start_to_closed_s >= 0),
                        CHECK ((ending = 'closed') = (start_to_closed_s IS NOT NULL)),
                        PRIMARY KEY (started_at, operation_id)
                    ) STRICT, WITHOUT ROWID;

                    CREATE TABLE report_branch (
                        started_at           INTEGER NOT NULL,
                        operation_id         TEXT    NOT NULL REFERENCES report_operation (operation_id),
                        instance             TEXT    NOT NULL,
                        branch               TEXT    NOT NULL,
                        kind                 TEXT    NOT NULL,
                        workflow             TEXT    NOT NULL,
                        region               TEXT    NOT NULL,
                        priority             INTEGER,
                        status               TEXT    NOT NULL CHECK (status IN ('active', 'completed', 'failed', 'stood_down')),
                        report_to_dispatch_s INTEGER NOT NULL CHECK (report_to_dispatch_s >= 0),
                        dispatch_to_scene_s  INTEGER CHECK (dispatch_to_scene_s >= 0),
                        scene_to_completed_s INTEGER CHECK (scene_to_completed_s >= 0),
                        PRIMARY KEY (started_at, operation_id, instance)
                    ) STRICT, WITHOUT ROWID;

                    CREATE TABLE report_deadline (
                        started_at   INTEGER NOT NULL,
                        operation_id TEXT    NOT NULL REFERENCES report_operation (operation_id),
                        run          INTEGER NOT NULL CHECK (run >= 1),
                        deadline     TEXT    NOT NULL,
                        branch       TEXT,
                        workflow     TEXT    NOT NULL,
                        region       TEXT    NOT NULL,
                        priority     INTEGER,
                        outcome      TEXT    NOT NULL CHECK (outcome IN ('met', 'met_late', 'missed', 'dropped')),
                        lateness_ms  INTEGER CHECK (lateness_ms >= 0),
                        PRIMARY KEY (started_at, operation_id, run)
                    ) STRICT, WITHOUT ROWID;

                    CREATE TABLE report_rating (
                        started_at   INTEGER NOT NULL,
                        operation_id TEXT    NOT NULL UNIQUE REFERENCES operation (id),
                        workflow     TEXT    NOT NULL,
                        region       TEXT    NOT NULL,
                        priority     INTEGER,
                        rated_at     INTEGER NOT NULL,
                        before       INTEGER NOT NULL CHECK (before BETWEEN 1 AND 5),
                        during       INTEGER NOT NULL CHECK (during BETWEEN 1 AND 5),
                        after        INTEGER NOT NULL CHECK (after BETWEEN 1 AND 5),
                        score        INTEGER NOT NULL CHECK (score BETWEEN 1 AND 5),
                        comment      TEXT    NOT NULL,
                        PRIMARY KEY (started_at, operation_id)
                    ) STRICT, WITHOUT ROWID;
                    CREATE INDEX report_rating_region ON report_rating (region, rated_at);
                    """)
            try ReportFactsWriter.backfill(db)
        }
        migrator.registerMigration("0004 unit roster and units of branch instances") { db in
            // The roster's current state; its history is the event log (stream '@units' for
            // roster changes, each operation's stream for what happened to its units).
            try db.execute(
                sql: """
                    ALTER TABLE branch ADD COLUMN assigned_units TEXT NOT NULL DEFAULT '[]';
                    ALTER TABLE branch ADD COLUMN missing_units INTEGER NOT NULL DEFAULT 0 CHECK (missing_units >= 0);
                    ALTER TABLE branch ADD COLUMN awaited_capabilities TEXT NOT NULL DEFAULT '[]';
                    ALTER TABLE report_branch ADD COLUMN dispatch_to_assigned_s INTEGER CHECK (dispatch_to_assigned_s >= 0);
                    ALTER TABLE report_branch ADD COLUMN units_assigned INTEGER NOT NULL DEFAULT 0 CHECK (units_assigned >= 0);
                    ALTER TABLE report_branch ADD COLUMN unit_s INTEGER NOT NULL DEFAULT 0 CHECK (unit_s >= 0);

                    CREATE TABLE unit (
                        id            TEXT    PRIMARY KEY CHECK (length(id) > 0),
                        call_sign     TEXT    NOT NULL CHECK (length(call_sign) > 0),
                        kind          TEXT    NOT NULL,
                        home_region   TEXT    NOT NULL,
                        capabilities  TEXT    NOT NULL,
                        status        TEXT    NOT NULL
                            CHECK (status IN ('available', 'dispatched', 'en_route', 'on_scene', 'returning', 'out_of_service')),
                        status_reason TEXT,
                        operation_id  TEXT,
                        instance      INTEGER CHECK (instance >= 0),
                        retired       INTEGER NOT NULL CHECK (retired IN (0, 1)),
                        CHECK ((operation_id IS NULL) = (instance IS NULL)),
                        CHECK ((operation_id IS NOT NULL) = (status IN ('dispatched', 'en_route', 'on_scene')))
                    ) STRICT, WITHOUT ROWID;
                    CREATE INDEX unit_by_operation ON unit (operation_id) WHERE operation_id IS NOT NULL;
                    """)
        }
        migrator.registerMigration("0005 branch status checked without an IN list") { db in
            // SQLite checks `status IN (…4 values…)` through an ephemeral table it opens and
            // closes for every insert and status update of a branch — about a twentieth of the
            // writer's time in profiles. The same rule as comparisons needs none. The table is
            // rebuilt (SQLite cannot change a CHECK in place); foreign keys are off while
            // migrations run and checked after.
            try db.execute(
                sql: """
                    CREATE TABLE branch_new (
                        operation_id         TEXT    NOT NULL REFERENCES operation (id),
                        position             INTEGER NOT NULL CHECK (position >= 0),
                        instance             TEXT    NOT NULL,
                        branch               TEXT    NOT NULL,
                        step                 TEXT    NOT NULL,
                        status               TEXT    NOT NULL
                            CHECK (status = 'active' OR status = 'completed' OR status = 'failed' OR status = 'stood_down'),
                        region               TEXT    NOT NULL,
                        units                INTEGER NOT NULL CHECK (units >= 1),
                        dispatched_at        INTEGER NOT NULL,
                        outcome              TEXT,
                        assigned_units       TEXT    NOT NULL DEFAULT '[]',
                        missing_units        INTEGER NOT NULL DEFAULT 0 CHECK (missing_units >= 0),
                        awaited_capabilities TEXT    NOT NULL DEFAULT '[]',
                        PRIMARY KEY (operation_id, position),
                        UNIQUE (operation_id, instance)
                    ) STRICT, WITHOUT ROWID;
                    INSERT INTO branch_new (operation_id, position, instance, branch, step, status, region, units, dispatched_at, outcome,
                        assigned_units, missing_units, awaited_capabilities)
                    SELECT operation_id, position, instance, branch, step, status, region, units, dispatched_at, outcome,
                        assigned_units, missing_units, awaited_capabilities
                    FROM branch;
                    DROP TABLE branch;
                    ALTER TABLE branch_new RENAME TO branch;
                    """)
        }
        migrator.registerMigration("0006 no index of timers by due time") { db in
            // Nothing reads timers by due time (the daemon keeps armed timers in memory and
            // recovery reads them by operation), while every step's deadline deleted one
            // entry and inserted another.
            try db.execute(sql: "DROP INDEX timer_by_due")
        }
        migrator.registerMigration("0007 client requests keep their parameters' fingerprint") { db in
            // A retry must repeat its command exactly: the same request id with other
            // parameters is refused instead of answered with the first command's result.
            // Requests remembered before this migration have none and are not compared.
            try db.execute(
                sql: "ALTER TABLE client_request ADD COLUMN fingerprint TEXT CHECK (fingerprint IS NULL OR length(fingerprint) = 64)")
        }
        migrator.registerMigration("0008 branch instances ended before the current phase") { db in
            // A join counts the instances active or ended in the current phase. Judged by
            // times, one that ended at the very instant the phase was entered (the join that
            // entered it) counted again, and the next join could be taken at once. Operations
            // stored before this migration have NULL: they are judged by times as before.
            try db.execute(sql: "ALTER TABLE operation ADD COLUMN ended_before_phase TEXT")
        }
        migrator.registerMigration("0009 branch instances that never had all their units") { db in
            // The time to assign measures only branches that had all their units at last; the
            // report counts the others beside it. Facts stored before this migration are
            // judged from their events: a branch that awaited units and has no time to assign.
            try db.execute(
                sql: """
                    ALTER TABLE report_branch ADD COLUMN units_short INTEGER NOT NULL DEFAULT 0 CHECK (units_short IN (0, 1));
                    UPDATE report_branch SET units_short = 1
                    WHERE dispatch_to_assigned_s IS NULL AND EXISTS (
                        SELECT 1 FROM event e
                        WHERE e.operation_id = report_branch.operation_id AND e.kind = 'units_awaited'
                            AND json_extract(e.payload, '$.instance') = report_branch.instance
                            AND json_extract(e.payload, '$.missing') > 0);
                    """)
        }
        migrator.registerMigration("0010 client requests by age") { db in
            // Forgetting replies older than the retention read every kept reply to find them,
            // holding the one writer all the while: a scale audit saw every command held up
            // to 11 s every 10 minutes with 555,000 replies kept.
            try db.execute(sql: "CREATE INDEX client_request_at ON client_request (at)")
        }
        return migrator
    }
}
