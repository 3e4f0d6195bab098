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

    /// One period's figures, aggregated by SQL over the report tables (indexed by start time).
    public func figures(from: Instant, to: Instant, filter: ReportFilter) throws(StoreError) -> PeriodFigures {
        do {
            return try pool.read { db in
                var figures = PeriodFigures()
                let operations = Conditions(from: from, to: to, filter: filter, table: "operation", id: "id", branchTable: "branch")
                if let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT count(*), total(phase = 'closed'), total(phase = 'cancelled'), total(ending IS NULL)
                        FROM operation WHERE \(operations.sql)
                        """, arguments: operations.arguments)
                {
                    figures.started = row[0]
                    figures.closed = Int(row[1] as Double)
                    figures.cancelled = Int(row[2] as Double)
                    figures.open = Int(row[3] as Double)
                }
                let ended = Conditions(
                    from: from, to: to, filter: filter, table: "report_operation", id: "operation_id", branchTable: "report_branch")
                if let row = try Row.fetchOne(
                    db, sql: "SELECT total(escalations) FROM report_operation WHERE \(ended.sql)", arguments: ended.arguments)
                {
                    figures.escalations = Int(row[0] as Double)
                }
                figures.intervals[.startToClosed] = try histogram(
                    "start_to_closed", table: "report_operation", ended.sql, ended.arguments, db)
                let branches = Conditions(from: from, to: to, filter: filter, table: "report_branch", id: nil, branchTable: nil)
                for interval in [PeriodFigures.Interval.reportToDispatch, .dispatchToScene, .sceneToCompleted] {
                    figures.intervals[interval] = try histogram(
                        interval.rawValue, table: "report_branch", branches.sql, branches.arguments, db)
                }
                let deadlines = Conditions(from: from, to: to, filter: filter, table: "report_deadline", id: nil, branchTable: nil)
                let outcomes = try Row.fetchCursor(
                    db, sql: "SELECT deadline, outcome, count(*) FROM report_deadline WHERE \(deadlines.sql) GROUP BY deadline, outcome",
                    arguments: deadlines.arguments)
                while let row = try outcomes.next() {
                    let deadline: String = row[0]
                    let count: Int = row[2]
                    switch DeadlineRun.Outcome(rawValue: row[1]) {
                    case .met: figures.deadlines[deadline, default: .init()].met += count
                    case .metLate: figures.deadlines[deadline, default: .init()].metLate += count
                    case .missed: figures.deadlines[deadline, default: .init()].missed += count
                    case .dropped: figures.deadlines[deadline, default: .init()].dropped += count
                    case .pending, nil: break
                    }
                }
                let rated = Conditions(
                    from: from, to: to, filter: filter, table: "report_rating", id: "operation_id", branchTable: "report_branch")
                if let row = try Row.fetchOne(
                    db, sql: "SELECT count(*), total(score), total(score >= 4), total(score <= 2) FROM report_rating WHERE \(rated.sql)",
                    arguments: rated.arguments)
                {
                    figures.ratings = row[0]
                    figures.ratingScoreSum = Int(row[1] as Double)
                    figures.satisfied = Int(row[2] as Double)
                    figures.dissatisfied = Int(row[3] as Double)
                }
                return figures
            }
        } catch {
            throw StoreError.from(error, path: options.path, doing: "computing a report", writing: false)
        }
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

    private func histogram(
        _ column: String, table: String, _ conditions: String, _ arguments: StatementArguments, _ db: Database
    ) throws
        -> SecondsHistogram
    {
        var histogram = SecondsHistogram()
        let rows = try Row.fetchCursor(
            db, sql: "SELECT \(column) / 1000, count(*) FROM \(table) WHERE \(conditions) AND \(column) IS NOT NULL GROUP BY 1",
            arguments: arguments)
        while let row = try rows.next() { histogram.add(seconds: row[0], count: row[1]) }
        return histogram
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
                clauses.append("EXISTS (SELECT 1 FROM \(branchTable) b WHERE b.operation_id = \(table).\(id) AND b.branch = ?)")
            } else {
                clauses.append("branch = ?")
            }
            values.append(branch)
        }
        sql = clauses.joined(separator: " AND ")
        arguments = StatementArguments(values)
    }
}
