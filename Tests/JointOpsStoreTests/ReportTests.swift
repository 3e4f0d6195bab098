import Foundation
import JointOpsCore
import Testing

@testable import JointOpsStore

/// Evaluation reports against figures computed by hand on a small data set: five
/// armed-response operations in the period and one in the previous period, with times
/// chosen so every percentile, compliance rate and change is checkable on paper.
@Suite struct ReportTests {
    static let day: Int64 = 86_400_000
    /// The report period's start.
    static let t0: Int64 = 1_800_000_000_000

    /// Drives one operation with the clock: timers due before a command fire first, as in the daemon.
    struct Driver {
        let store: EventStore
        var state: OperationState
        let start: Int64

        init(_ store: EventStore, _ workflow: Workflow, id: String, region: String, at start: Int64) throws {
            self.store = store
            self.start = start
            let (state, transition) = try OperationState.start(
                workflow, id: id, region: region, attributes: ["incident_type": "armed_robbery", "priority": "P3"],
                at: Instant(milliseconds: start), actor: nil)
            self.state = state
            try store.commit([EventStore.Change(state: state, before: nil, events: transition.events)])
        }

        mutating func at(_ seconds: Int64, _ command: Command) throws {
            try store.commit([change(at: seconds, command)])
        }

        /// Commits the timers due by `seconds`, then makes `command`'s change there without committing it.
        mutating func change(at seconds: Int64, _ command: Command) throws -> EventStore.Change {
            let now = start + seconds * 1000
            while let timer = state.runningTimers.min(by: { $0.due < $1.due }), timer.due.milliseconds <= now {
                try store.commit([apply(.timerFired(timer.key), at: timer.due.milliseconds)])
            }
            return try apply(command, at: now)
        }

        private mutating func apply(_ command: Command, at: Int64) throws -> EventStore.Change {
            let before = state
            let transition = try state.handle(command, at: Instant(milliseconds: at), actor: nil)
            return EventStore.Change(state: state, before: before, events: transition.events)
        }

        /// Public order arrives `arrive` s after its dispatch at 60 s and completes `complete`
        /// s later; `contained` dispatches criminal investigation, which completes 200 s on;
        /// the operation closes at `close` (nil: it is left open there).
        mutating func run(arrive: Int64, complete: Int64, contained: Int64, close: Int64?) throws {
            try at(30, .fire(event: "assess"))
            try at(60, .fire(event: "dispatch"))
            try at(60 + arrive, .advance(branch: "public_order", to: "on_scene", outcome: nil))
            try at(60 + arrive + 10, .advance(branch: "public_order", to: "perimeter_set", outcome: nil))
            try at(60 + arrive + 20, .advance(branch: "public_order", to: "cleared", outcome: nil))
            try at(60 + arrive + complete, .advance(branch: "public_order", to: "completed", outcome: nil))
            try at(contained, .fire(event: "contained"))
            try at(contained + 100, .advance(branch: "criminal_investigation", to: "scene_investigation", outcome: nil))
            try at(contained + 150, .advance(branch: "criminal_investigation", to: "case_filed", outcome: nil))
            try at(contained + 200, .advance(branch: "criminal_investigation", to: nil, outcome: "prosecution_referral"))
            if let close { try at(close, .close(disposition: "suspect_arrested")) }
        }
    }

    static func dataSet() throws -> (EventStore, TemporaryFolder) {
        let folder = try TemporaryFolder()
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: folder.path("store.sqlite"), workflows)
        let armed = try #require(workflows.first { $0.0.id == "armed-response" }?.0)
        var op0 = try Driver(store, armed, id: "OP-0", region: "hexi", at: t0 - 5 * 3_600_000)
        try op0.run(arrive: 60, complete: 60, contained: 300, close: 600)
        var op1 = try Driver(store, armed, id: "OP-1", region: "hexi-liulin", at: t0 + 1_000)
        try op1.run(arrive: 120, complete: 600, contained: 900, close: 1800)
        var op2 = try Driver(store, armed, id: "OP-2", region: "hexi", at: t0 + 2_000)
        try op2.run(arrive: 300, complete: 900, contained: 1500, close: 2400)
        // Public order arrives at 660 s: its perimeter (due 540 s) is missed, then met late at 670 s.
        var op3 = try Driver(store, armed, id: "OP-3", region: "heping", at: t0 + 3_000)
        try op3.run(arrive: 600, complete: 300, contained: 1200, close: 3000)
        var op4 = try Driver(store, armed, id: "OP-4", region: "hexi", at: t0 + 4_000)
        try op4.at(30, .fire(event: "assess"))
        try op4.at(60, .fire(event: "dispatch"))
        try op4.at(100, .cancel(reason: "false_alarm"))
        _ = try Driver(store, armed, id: "OP-5", region: "hexi", at: t0 + 5_000)
        // Outside both periods.
        _ = try Driver(store, armed, id: "OP-6", region: "hexi", at: t0 + 2 * day)
        for (id, driver, rating) in [
            ("OP-1", op1, ServiceRating(before: 5, during: 4, after: 5, score: 5, comment: "fast")),
            ("OP-2", op2, ServiceRating(before: 3, during: 2, after: 1, score: 2, comment: "never called back")),
        ] {
            var state = driver.state
            let transition = try state.rate(rating, at: Instant(milliseconds: t0 + 10_000_000), actor: nil, ratedAt: nil)
            try store.commit([EventStore.Change(state: state, before: driver.state, events: transition.events)])
            #expect(try store.ratedAt(id) == Instant(milliseconds: t0 + 10_000_000))
        }
        return (store, folder)
    }

    static func figure(_ report: EvaluationReport, _ key: String) -> EvaluationReport.Row? { report.rows.first { $0.figure == key } }

    @Test func figuresMatchTheHandComputedOnes() throws {
        let (store, folder) = try Self.dataSet()
        _ = folder
        let report = try store.evaluationReport(
            from: Instant(milliseconds: Self.t0), to: Instant(milliseconds: Self.t0 + Self.day), filter: ReportFilter())
        let expected: [(String, Double?, Double?)] = [
            ("operations.started", 5, 1), ("operations.closed", 3, 1), ("operations.cancelled", 1, 0), ("operations.open", 1, 0),
            // Branch dispatches: public order at 60 s in OP-1…4, criminal investigation at 900, 1500, 1200 (and 300 before).
            ("report_to_dispatch.count", 7, 2), ("report_to_dispatch.p50", 60, 60), ("report_to_dispatch.p90", 1500, 300),
            ("report_to_dispatch.p95", 1500, 300),
            // Public order arrives after 120, 300, 600 s (60 before); criminal investigation has no on-scene step.
            ("dispatch_to_scene.count", 3, 1), ("dispatch_to_scene.p50", 300, 60), ("dispatch_to_scene.p90", 600, 60),
            ("scene_to_completed.p50", 600, 60), ("scene_to_completed.p95", 900, 60),
            ("start_to_closed.count", 3, 1), ("start_to_closed.p50", 2400, 600), ("start_to_closed.p90", 3000, 600),
            // Perimeter: met in OP-1 and OP-2, met late in OP-3, dropped in OP-4 (cancelled).
            ("deadline.perimeter.compliance", 2.0 / 3 * 100, 100), ("deadline.perimeter.missed", 1, 0),
            ("deadline.assessment.compliance", 100, 100), ("deadline.case_filing.compliance", 100, 100),
            // One escalation (OP-3's perimeter) over four ended operations.
            ("escalations.per_100", 25, 0),
            ("ratings.count", 2, 0), ("ratings.mean", 3.5, nil), ("ratings.satisfied", 50, nil), ("ratings.dissatisfied", 1, 0),
        ]
        for (key, current, previous) in expected {
            let row = try #require(Self.figure(report, key), "no figure \(key)")
            #expect(row.current == current, "\(key) current")
            #expect(row.previous == previous, "\(key) previous")
        }
        #expect(Self.figure(report, "operations.started")?.changePercent == 400)
        #expect(Self.figure(report, "start_to_closed.p50")?.changePercent == 300)
        #expect(Self.figure(report, "escalations.per_100")?.changePercent == nil, "no change from zero")
    }

    @Test func filtersNarrowTheFigures() throws {
        let (store, folder) = try Self.dataSet()
        _ = folder
        let from = Instant(milliseconds: Self.t0)
        let to = Instant(milliseconds: Self.t0 + Self.day)
        let heping = try store.figures(from: from, to: to, filter: ReportFilter(regions: ["heping"]))
        #expect(heping.started == 1)
        #expect(heping.intervals[.startToClosed]?.percentile(50) == 3000)
        #expect(heping.deadlines["perimeter"] == PeriodFigures.Compliance(metLate: 1))
        let hexi = try store.figures(from: from, to: to, filter: ReportFilter(regions: ["hexi", "hexi-liulin"]))
        #expect((hexi.started, hexi.closed, hexi.cancelled, hexi.open) == (4, 2, 1, 1))
        #expect(hexi.ratings == 2)
        let investigation = try store.figures(from: from, to: to, filter: ReportFilter(branch: "criminal_investigation"))
        #expect(investigation.started == 3)
        #expect(investigation.intervals[.reportToDispatch]?.percentile(50) == 1200)
        #expect(investigation.deadlines.keys.sorted() == ["case_filing"])
        let other = try store.figures(from: from, to: to, filter: ReportFilter(workflow: "public-assistance"))
        #expect(other.started == 0 && other.intervals[.startToClosed]?.total == 0)
        let p1 = try store.figures(from: from, to: to, filter: ReportFilter(priority: 1))
        #expect(p1.started == 0)
        let p3 = try store.figures(from: from, to: to, filter: ReportFilter(priority: 3))
        #expect(p3.started == 5)
    }

    @Test func ratingsAreTakenOnceAndOnlyForClosedOperations() throws {
        let (store, folder) = try Self.dataSet()
        _ = folder
        var closed = try store.replay("OP-1")
        let rating = ServiceRating(before: 4, during: 4, after: 4, score: 4, comment: "")
        #expect(throws: Refusal.self) {
            try closed.rate(rating, at: Instant(milliseconds: 0), actor: nil, ratedAt: try store.ratedAt("OP-1"))
        }
        var cancelled = try store.replay("OP-4")
        let refusal = #expect(throws: Refusal.self) { try cancelled.rate(rating, at: Instant(milliseconds: 0), actor: nil, ratedAt: nil) }
        #expect(refusal?.reason == "operation OP-4 was cancelled; only a closed operation can be rated")
        var open = try store.replay("OP-5")
        #expect(throws: Refusal.self) { try open.rate(rating, at: Instant(milliseconds: 0), actor: nil, ratedAt: nil) }
        var again = try store.replay("OP-3")
        let bad = #expect(throws: Refusal.self) {
            try again.rate(
                ServiceRating(before: 4, during: 6, after: 4, score: 4, comment: ""), at: Instant(milliseconds: 0), actor: nil, ratedAt: nil
            )
        }
        #expect(bad?.reason == "during is 6; every answer and the score run from 1 (very dissatisfied) to 5 (very satisfied)")
    }
}

/// Migration 0003 back-fills the report tables of operations that ended before it: the
/// back-filled rows give exactly the report the live rows gave.
@Suite struct ReportBackfillTests {
    @Test func backFilledFactsGiveTheSameReport() throws {
        let (store, folder) = try ReportTests.dataSet()
        _ = folder
        let from = Instant(milliseconds: ReportTests.t0 - ReportTests.day)
        let to = Instant(milliseconds: ReportTests.t0 + ReportTests.day)
        let live = try store.evaluationReport(from: from, to: to, filter: ReportFilter())
        #expect(live.rows.first { $0.figure == "operations.closed" }?.current == 4)
        try store.pool.write { db in
            // As before 0003: no report facts (ratings are events newer than 0003, so they stay).
            try db.execute(sql: "DELETE FROM report_deadline; DELETE FROM report_branch; DELETE FROM report_operation")
        }
        let empty = try store.evaluationReport(from: from, to: to, filter: ReportFilter())
        #expect(empty.rows.first { $0.figure == "start_to_closed.count" }?.current == 0)
        try store.pool.write { db in try ReportFactsWriter.backfill(db) }
        let refilled = try store.evaluationReport(from: from, to: to, filter: ReportFilter())
        for (before, after) in zip(live.rows, refilled.rows) where before != after {
            Issue.record(
                "\(before.figure): live \(String(describing: before.current))/\(String(describing: before.previous)), back-filled \(String(describing: after.current))/\(String(describing: after.previous))"
            )
        }
        #expect(refilled.rows.count == live.rows.count)
    }
}
