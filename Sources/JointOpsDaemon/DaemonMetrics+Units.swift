import JointOpsCore
import Metrics

/// `jointops_units{status, branch}`: units in service (not retired) by status and branch
/// kind, kept by difference as units change.
struct UnitGaugeKey: Hashable {
    var status: String
    var branch: String
}

extension DaemonMetrics {
    /// Counts the roster loaded at start. Every status of each branch kind in it is a series
    /// from the start, at 0 where no unit has it, as it would be after units had left it:
    /// a restart does not make `returning` or `out_of_service` disappear from the metrics.
    func unitsLoaded(_ units: [JointOpsCore.Unit]) {
        let kinds = Set(units.filter { !$0.retired }.map(\.kind.rawValue))
        unitGauges.withLock { gauges in
            for kind in kinds.sorted() {
                for status in UnitStatus.allCases {
                    let key = UnitGaugeKey(status: status.rawValue, branch: kind)
                    guard gauges[key] == nil else { continue }
                    let meter = Meter(label: Name.units, dimensions: [("status", key.status), ("branch", key.branch)], factory: factory)
                    meter.set(0)
                    gauges[key] = (0, meter)
                }
            }
        }
        for unit in units { unitChanged(from: nil, to: unit) }
    }

    /// A unit changed from `before` (nil: added) to `after`.
    func unitChanged(from before: JointOpsCore.Unit?, to after: JointOpsCore.Unit?) {
        func key(_ unit: JointOpsCore.Unit?) -> UnitGaugeKey? {
            guard let unit, !unit.retired else { return nil }
            return UnitGaugeKey(status: unit.status.rawValue, branch: unit.kind.rawValue)
        }
        let old = key(before)
        let new = key(after)
        guard old != new else { return }
        unitGauges.withLock { gauges in
            for (key, sign) in [(old, -1), (new, 1)] {
                guard let key else { continue }
                let entry =
                    gauges[key]
                    ?? (0, Meter(label: Name.units, dimensions: [("status", key.status), ("branch", key.branch)], factory: factory))
                gauges[key] = (entry.count + sign, entry.meter)
                entry.meter.set(entry.count + sign)
            }
        }
    }
}
