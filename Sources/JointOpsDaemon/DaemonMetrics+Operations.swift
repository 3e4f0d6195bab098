import JointOpsCore
import Metrics

/// The gauges of open operations by phase and region, active branch instances by branch,
/// and late steps, kept by difference: each commit takes away what the operation counted
/// for before and adds what it counts for now — a handful of dictionary updates, however
/// many operations are open.
struct OpenOperationGauges {
    struct PhaseRegion: Hashable {
        var phase: String
        var region: String
    }

    /// What one operation counts for.
    struct Share {
        var phaseRegion: PhaseRegion
        /// Active branch instances, by the workflow branch's name (`swat` for `swat#2` too).
        var branches: [String: Int]
        /// Open escalations of missed deadlines: steps that are late and not yet met.
        var late: Int

        init(_ state: OperationState) {
            phaseRegion = PhaseRegion(phase: state.phaseName, region: state.region)
            branches = [:]
            for instance in state.branches where instance.status == .active {
                branches[state.workflow.branches[instance.definition].name, default: 0] += 1
            }
            late = state.escalations.count { $0.isOpen && $0.timer != nil }
        }
    }

    var operations: [PhaseRegion: (count: Int, meter: Meter)] = [:]
    var branches: [String: (count: Int, meter: Meter)] = [:]
    var late = 0
}

extension DaemonMetrics {
    /// Counts the operations recovered at start.
    func recovered(_ states: [OperationState]) {
        gauges.withLock { gauges in
            for state in states { add(OpenOperationGauges.Share(state), sign: 1, to: &gauges) }
            setLateSteps(gauges.late)
        }
    }

    /// An operation changed from `before` (nil: it has just started) to `after`; an ended
    /// operation counts for nothing any more.
    func operationChanged(from before: OperationState?, to after: OperationState, events: [RecordedEvent]) {
        let old = before.flatMap { $0.phase.isTerminal ? nil : OpenOperationGauges.Share($0) }
        let new = after.phase.isTerminal ? nil : OpenOperationGauges.Share(after)
        if old?.phaseRegion != new?.phaseRegion || old?.branches != new?.branches || old?.late != new?.late {
            gauges.withLock { gauges in
                if let old { add(old, sign: -1, to: &gauges) }
                if let new { add(new, sign: 1, to: &gauges) }
                if old?.late != new?.late { setLateSteps(gauges.late) }
            }
        }
        for record in events { count(record.event, of: after) }
    }

    private func add(_ share: OpenOperationGauges.Share, sign: Int, to gauges: inout OpenOperationGauges) {
        let key = share.phaseRegion
        let operations =
            gauges.operations[key]
            ?? (0, Meter(label: Name.openOperations, dimensions: [("phase", key.phase), ("region", key.region)], factory: factory))
        gauges.operations[key] = (operations.count + sign, operations.meter)
        operations.meter.set(operations.count + sign)
        for (name, active) in share.branches {
            let branch = gauges.branches[name] ?? (0, Meter(label: Name.activeBranches, dimensions: [("branch", name)], factory: factory))
            gauges.branches[name] = (branch.count + sign * active, branch.meter)
            branch.meter.set(branch.count + sign * active)
        }
        gauges.late += sign * share.late
    }

    /// Counters fed by events: missed deadlines, ladder rungs, escalations raised by hand.
    private func count(_ event: OperationEvent, of state: OperationState) {
        switch event {
        case .deadlineMissed(let key, _, _) where key.kind == .deadline:
            missed(deadline: state.workflow.deadlines[key.index].id)
        case .escalated(let number, let rung, _, _):
            guard let key = state.escalations.first(where: { $0.number == number })?.timer, key.kind == .deadline else { return }
            let deadline = state.workflow.deadlines[key.index]
            guard deadline.ladder.indices.contains(rung) else { return }
            let kind =
                switch deadline.ladder[rung].action {
                case .notify: "notify"
                case .reinforce: "reinforce"
                case .event: "event"
                }
            escalated(deadline: deadline.id, kind: kind)
        case .escalationRaised:
            escalated(deadline: "", kind: "manual")
        default:
            break
        }
    }
}
