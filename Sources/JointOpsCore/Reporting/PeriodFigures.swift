/// The raw figures of one report period, as the store aggregates them: counts, and for
/// each interval a histogram of whole seconds from which any percentile is exact at
/// one-second resolution.
public struct PeriodFigures: Sendable, Hashable {
    /// The intervals the reports measure.
    public enum Interval: String, Sendable, Hashable, CaseIterable {
        case reportToDispatch = "report_to_dispatch"
        case dispatchToAssigned = "dispatch_to_assigned"
        case dispatchToScene = "dispatch_to_scene"
        case sceneToCompleted = "scene_to_completed"
        case startToClosed = "start_to_closed"

        public var label: String {
            switch self {
            case .reportToDispatch: "report → dispatch"
            case .dispatchToAssigned: "dispatch → all units assigned"
            case .dispatchToScene: "dispatch → on scene"
            case .sceneToCompleted: "on scene → completed"
            case .startToClosed: "start → closed"
            }
        }
    }

    /// Outcome counts of one deadline.
    public struct Compliance: Sendable, Hashable {
        public var met = 0
        public var metLate = 0
        public var missed = 0
        public var dropped = 0

        public init(met: Int = 0, metLate: Int = 0, missed: Int = 0, dropped: Int = 0) {
            self.met = met
            self.metLate = metLate
            self.missed = missed
            self.dropped = dropped
        }

        /// Deadlines that came due: met on time, met late, or missed.
        public var decided: Int { met + metLate + missed }
    }

    public var started = 0
    public var closed = 0
    public var cancelled = 0
    /// Operations started in the period that are still open.
    public var open = 0
    public var intervals: [Interval: SecondsHistogram] = [:]
    /// Branches dispatched that never had all the units they asked for: left out of
    /// `dispatchToAssigned`, so counted beside it.
    public var branchesShortOfUnits = 0
    public var deadlines: [String: Compliance] = [:]
    /// Escalations opened by the operations that ended (closed or cancelled).
    public var escalations = 0
    /// Units committed to the branches of the operations that ended, and the unit-time they held (seconds).
    public var unitsAssigned = 0
    public var unitSeconds: Int64 = 0
    public var ratings = 0
    public var ratingScoreSum = 0
    public var satisfied = 0
    public var dissatisfied = 0

    public init() {}

    public var ended: Int { closed + cancelled }
}

/// Counts of values in whole seconds; percentiles by the nearest-rank method.
public struct SecondsHistogram: Sendable, Hashable {
    public private(set) var counts: [Int64: Int] = [:]
    public private(set) var total = 0

    public init() {}

    public mutating func add(seconds: Int64, count: Int = 1) {
        counts[seconds, default: 0] += count
        total += count
    }

    /// The smallest value with at least `percent` % of the values at or below it; nil when empty.
    public func percentile(_ percent: Int) -> Int64? { percentiles([percent])[percent] }

    /// Several percentiles from one pass over the values in order (empty when there are none).
    public func percentiles(_ percents: [Int]) -> [Int: Int64] {
        guard total > 0 else { return [:] }
        var ranks = percents.map { (percent: $0, rank: max(1, (total * $0 + 99) / 100)) }.sorted { $0.rank < $1.rank }[...]
        var found: [Int: Int64] = [:]
        var seen = 0
        for seconds in counts.keys.sorted() where !ranks.isEmpty {
            seen += counts[seconds]!
            while let next = ranks.first, seen >= next.rank {
                found[next.percent] = seconds
                ranks.removeFirst()
            }
        }
        return found
    }
}
