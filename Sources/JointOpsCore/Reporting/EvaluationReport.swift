/// An evaluation report: each figure of a period beside the previous period of the same
/// length, with the change in percent.
public struct EvaluationReport: Sendable, Hashable {
    public enum Unit: String, Sendable, Hashable {
        case count, seconds, percent
        /// Escalations per 100 ended operations.
        case per100 = "per_100"
        /// Mean rating score, 1 to 5.
        case score
    }

    public struct Row: Sendable, Hashable {
        /// A stable key for scripts, e.g. `dispatch_to_scene.p90`, `deadline.swat_on_scene.compliance`.
        public var figure: String
        public var label: String
        public var unit: Unit
        public var current: Double?
        public var previous: Double?

        /// (current − previous) / previous, in percent; nil when either is missing or previous is 0.
        public var changePercent: Double? {
            guard let current, let previous, previous != 0 else { return nil }
            return (current - previous) / previous * 100
        }
    }

    public var from: Instant
    public var to: Instant
    public var rows: [Row]

    /// The period `[from, to)` and the one of the same length just before it.
    public static func previousPeriod(from: Instant, to: Instant) -> (from: Instant, to: Instant) {
        (from - to.since(from), from)
    }

    public init(from: Instant, to: Instant, current: PeriodFigures, previous: PeriodFigures) {
        self.from = from
        self.to = to
        var rows: [Row] = []
        func add(_ figure: String, _ label: String, _ unit: Unit, _ value: (PeriodFigures) -> Double?) {
            rows.append(Row(figure: figure, label: label, unit: unit, current: value(current), previous: value(previous)))
        }
        add("operations.started", "operations started", .count) { Double($0.started) }
        add("operations.closed", "operations closed", .count) { Double($0.closed) }
        add("operations.cancelled", "operations cancelled", .count) { Double($0.cancelled) }
        add("operations.open", "operations still open", .count) { Double($0.open) }
        for interval in PeriodFigures.Interval.allCases {
            add("\(interval.rawValue).count", "\(interval.label): measured", .count) { Double($0.intervals[interval]?.total ?? 0) }
            if interval == .dispatchToAssigned {
                // The branches the interval cannot measure, so a short day does not look quick.
                add("dispatch_to_assigned.never", "\(interval.label): never", .count) { Double($0.branchesShortOfUnits) }
            }
            let percents = [50, 90, 95]
            let now = current.intervals[interval]?.percentiles(percents) ?? [:]
            let before = previous.intervals[interval]?.percentiles(percents) ?? [:]
            for percent in percents {
                rows.append(
                    Row(
                        figure: "\(interval.rawValue).p\(percent)", label: "\(interval.label) p\(percent)", unit: .seconds,
                        current: now[percent].map(Double.init), previous: before[percent].map(Double.init)))
            }
        }
        for deadline in Set(current.deadlines.keys).union(previous.deadlines.keys).sorted() {
            add("deadline.\(deadline).compliance", "deadline \(deadline) met on time", .percent) {
                guard let compliance = $0.deadlines[deadline], compliance.decided > 0 else { return nil }
                return Double(compliance.met) / Double(compliance.decided) * 100
            }
            add("deadline.\(deadline).missed", "deadline \(deadline) missed", .count) {
                $0.deadlines[deadline].map { Double($0.missed + $0.metLate) } ?? 0
            }
        }
        add("units.assigned", "units assigned", .count) { Double($0.unitsAssigned) }
        add("units.committed", "unit time committed", .seconds) { Double($0.unitSeconds) }
        add("units.committed_per_unit", "unit time per unit assigned", .seconds) {
            $0.unitsAssigned > 0 ? Double($0.unitSeconds) / Double($0.unitsAssigned) : nil
        }
        add("escalations.per_100", "escalations per 100 operations", .per100) {
            $0.ended > 0 ? Double($0.escalations) / Double($0.ended) * 100 : nil
        }
        add("ratings.count", "service ratings", .count) { Double($0.ratings) }
        add("ratings.mean", "mean rating score (1–5)", .score) {
            $0.ratings > 0 ? Double($0.ratingScoreSum) / Double($0.ratings) : nil
        }
        add("ratings.satisfied", "ratings satisfied (4–5)", .percent) {
            $0.ratings > 0 ? Double($0.satisfied) / Double($0.ratings) * 100 : nil
        }
        add("ratings.dissatisfied", "ratings dissatisfied (1–2)", .count) { Double($0.dissatisfied) }
        self.rows = rows
    }
}
