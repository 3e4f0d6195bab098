import GRDB
public import JointOpsCore

/// Which operations a report counts. The period is on the operation's start (the report).
public struct ReportFilter: Sendable, Hashable {
    /// The operation's region must be one of these (a region and its sub-regions); nil: all.
    public var regions: [String]?
    /// Only operations that dispatched this branch; intervals and deadlines of this branch only.
    public var branch: String?
    public var workflow: String?
    public var priority: Int?

    public init(regions: [String]? = nil, branch: String? = nil, workflow: String? = nil, priority: Int? = nil) {
        self.regions = regions
        self.branch = branch
        self.workflow = workflow
        self.priority = priority
    }
}

extension EventStore {
    /// The evaluation report for `[from, to)` beside the previous period of the same length.
    public func evaluationReport(from: Instant, to: Instant, filter: ReportFilter) throws(StoreError) -> EvaluationReport {
        let previous = EvaluationReport.previousPeriod(from: from, to: to)
        return EvaluationReport(
            from: from, to: to, current: try figures(from: from, to: to, filter: filter),
            previous: try figures(from: previous.from, to: previous.to, filter: filter))
    }

    /// One period's figures: one range scan per report table (each is clustered by start
    /// time), aggregated as the rows stream by — nothing is held per operation.
    public func figures(from: Instant, to: Instant, filter: ReportFilter) throws(StoreError) -> PeriodFigures {
        do {
            return try pool.read { db in
                var figures = PeriodFigures()
                let started = Conditions(from: from, to: to, filter: filter, table: "operation", id: "id", branchTable: "branch")
                figures.started =
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM operation WHERE \(started.sql)", arguments: started.arguments) ?? 0

                let ended = Conditions(
                    from: from, to: to, filter: filter, table: "report_operation", id: "operation_id", branchTable: "report_branch")
                var startToClosed = SecondsHistogram()
                try scan("SELECT ending, escalations, start_to_closed_s FROM report_operation WHERE \(ended.sql)", ended.arguments, db) {
                    row in
                    if row.textLength(0) == 6 {  // closed
                        figures.closed += 1
                        startToClosed.add(seconds: row.int(2))
                    } else {
                        figures.cancelled += 1
                    }
                    figures.escalations += Int(row.int(1))
                }
                figures.open = figures.started - figures.ended
                figures.intervals[.startToClosed] = startToClosed

                let branches = Conditions(from: from, to: to, filter: filter, table: "report_branch", id: nil, branchTable: nil)
                var reportToDispatch = SecondsHistogram()
                var dispatchToScene = SecondsHistogram()
                var sceneToCompleted = SecondsHistogram()
                var dispatchToAssigned = SecondsHistogram()
                try scan(
                    """
                    SELECT report_to_dispatch_s, dispatch_to_scene_s, scene_to_completed_s, dispatch_to_assigned_s, units_assigned, unit_s,
                        units_short
                    FROM report_branch WHERE \(branches.sql)
                    """,
                    branches.arguments, db
                ) { row in
                    reportToDispatch.add(seconds: row.int(0))
                    if !row.isNull(1) { dispatchToScene.add(seconds: row.int(1)) }
                    if !row.isNull(2) { sceneToCompleted.add(seconds: row.int(2)) }
                    if !row.isNull(3) { dispatchToAssigned.add(seconds: row.int(3)) }
                    figures.unitsAssigned += Int(row.int(4))
                    figures.unitSeconds += row.int(5)
                    figures.branchesShortOfUnits += Int(row.int(6))
                }
                figures.intervals[.dispatchToAssigned] = dispatchToAssigned
                figures.intervals[.reportToDispatch] = reportToDispatch
                figures.intervals[.dispatchToScene] = dispatchToScene
                figures.intervals[.sceneToCompleted] = sceneToCompleted

                let deadlines = Conditions(from: from, to: to, filter: filter, table: "report_deadline", id: nil, branchTable: nil)
                try scan("SELECT deadline, outcome FROM report_deadline WHERE \(deadlines.sql)", deadlines.arguments, db) { row in
                    let deadline = row.text(0)
                    // The outcomes differ in length: met, missed, dropped, met_late.
                    switch row.textLength(1) {
                    case 3: figures.deadlines[deadline, default: .init()].met += 1
                    case 6: figures.deadlines[deadline, default: .init()].missed += 1
                    case 7: figures.deadlines[deadline, default: .init()].dropped += 1
                    default: figures.deadlines[deadline, default: .init()].metLate += 1
                    }
                }

                let rated = Conditions(
                    from: from, to: to, filter: filter, table: "report_rating", id: "operation_id", branchTable: "report_branch")
                try scan("SELECT score FROM report_rating WHERE \(rated.sql)", rated.arguments, db) { row in
                    let score = Int(row.int(0))
                    figures.ratings += 1
                    figures.ratingScoreSum += score
                    if score >= 4 { figures.satisfied += 1 }
                    if score <= 2 { figures.dissatisfied += 1 }
                }
                return figures
            }
        } catch {
            throw StoreError.from(error, path: options.path, doing: "computing a report", writing: false)
        }
    }

    private func scan(_ sql: String, _ arguments: StatementArguments, _ db: Database, _ body: (RawRows) throws -> Void) throws {
        let statement = try db.makeStatement(sql: sql)
        try statement.setArguments(arguments)
        try RawRows(statement, db).forEach(body)
    }

    /// When the operation was rated, if it was.
    public func ratedAt(_ operation: String) throws(StoreError) -> Instant? {
        do {
            return try pool.read { db in
                try Int64.fetchOne(db, sql: "SELECT rated_at FROM report_rating WHERE operation_id = ?", arguments: [operation])
                    .map(Instant.init(milliseconds:))
            }
        } catch {
            throw StoreError.from(error, path: options.path, doing: "reading the rating of \(operation)", writing: false)
        }
    }

    /// Dissatisfied ratings of operations in `region` rated at or after `since`.
    public func dissatisfiedRatings(region: String, since: Instant) throws(StoreError) -> Int {
        do {
            return try pool.read { db in
                try Int.fetchOne(
                    db, sql: "SELECT count(*) FROM report_rating WHERE region = ? AND rated_at >= ? AND score <= 2",
                    arguments: [region, since.milliseconds]) ?? 0
            }
        } catch {
            throw StoreError.from(error, path: options.path, doing: "counting the ratings of \(region)", writing: false)
        }
    }
}

/// A report's WHERE clause for one table: the period, then each filter that is set.
private struct Conditions {
    var sql: String
    var arguments: StatementArguments

    /// `id` and `branchTable` name how a table without a `branch` column is narrowed to
    /// operations that dispatched the filtered branch.
    init(from: Instant, to: Instant, filter: ReportFilter, table: String, id: String?, branchTable: String?) {
        var clauses = ["started_at >= ?", "started_at < ?"]
        var values: [any DatabaseValueConvertible] = [from.milliseconds, to.milliseconds]
        if let regions = filter.regions {
            clauses.append("region IN (\(regions.map { _ in "?" }.joined(separator: ", ")))")
            values.append(contentsOf: regions as [any DatabaseValueConvertible])
        }
        if let workflow = filter.workflow {
            clauses.append("workflow = ?")
            values.append(workflow)
        }
        if let priority = filter.priority {
            clauses.append("priority = ?")
            values.append(priority)
        }
        if let branch = filter.branch {
            if let id, let branchTable {
                // report_branch is clustered by start time: matching it too makes this a key lookup.
                let sameStart = branchTable == "report_branch" ? "b.started_at = \(table).started_at AND " : ""
                clauses.append("EXISTS (SELECT 1 FROM \(branchTable) b WHERE \(sameStart)b.operation_id = \(table).\(id) AND b.branch = ?)")
            } else {
                clauses.append("branch = ?")
            }
            values.append(branch)
        }
        sql = clauses.joined(separator: " AND ")
        arguments = StatementArguments(values)
    }
}

extension EventStore {
    /// Writes operation and report rows without events, for the report benchmark only: a store loaded
    /// this way has facts no event log backs, so nothing but `jointops-bench` may call it.
    package func loadReportFactsForBenchmark(_ facts: [OperationFacts]) throws(StoreError) {
        do {
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA foreign_keys = OFF")
                defer { try? db.execute(sql: "PRAGMA foreign_keys = ON") }
                try db.inTransaction {
                    let operation = try db.makeStatement(
                        sql: """
                            INSERT INTO operation (id, workflow, version, phase, region, priority, attributes, phase_entered_at, started_at,
                                last_change_at, sequence, ending)
                            VALUES (?, ?, 1, ?, ?, ?, '{}', '[]', ?, ?, 1, ?)
                            """)
                    for fact in facts {
                        try operation.execute(arguments: [
                            fact.operation, fact.workflow, fact.ending, fact.region, fact.priority, fact.startedAt.milliseconds,
                            fact.endedAt.milliseconds, fact.disposition,
                        ])
                        try ReportFactsWriter.insert(fact, db)
                    }
                    return .commit
                }
            }
        } catch {
            throw StoreError.from(error, path: options.path, doing: "loading benchmark report facts")
        }
    }
}
