/// Planned against actual: every deadline an operation armed, when it was due, and what
/// became of it — replayed from the events, so it is exact (holds, re-entries and ladders
/// included).
public struct DeadlineRun: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable {
        /// Reached by its due time.
        case met
        /// Reached, but only after it was missed.
        case metLate = "met_late"
        /// Missed and still not reached.
        case missed
        /// The branch ended or the operation closed before it was reached.
        case dropped
        /// Armed and not due yet.
        case pending
    }

    public var deadline: Int
    /// The branch instance, for a branch deadline.
    public var instance: Int?
    public var armedAt: Instant
    /// When it fell due: the due time it was armed with, moved later by any hold with a
    /// paused clock before it was missed.
    public var due: Instant
    public var outcome: Outcome
    /// When it was reached, missed or dropped.
    public var settledAt: Instant?
    /// The escalation it opened, if it was missed.
    public var escalation: Int?
}

extension OperationState {
    /// Replays `events` (from `started`) and reports every deadline run.
    public static func deadlineHistory(_ workflow: Workflow, _ events: [RecordedEvent]) -> [DeadlineRun] {
        guard let first = events.first, case .started(let id, _, _, let region, let attributes) = first.event else { return [] }
        var state = OperationState(id: id, workflow: workflow, region: region, attributes: attributes, at: first.at)
        var runs: [DeadlineRun] = []
        var open: [TimerKey: Int] = [:]
        /// Missed runs whose ladder has ended: reaching the moment later still counts as met late.
        var late: [TimerKey: Int] = [:]
        for record in events {
            let before = Dictionary(uniqueKeysWithValues: state.timers.map { ($0.key, $0.due) })
            state.apply(record)
            let after = Dictionary(uniqueKeysWithValues: state.timers.map { ($0.key, $0.due) })
            for (key, index) in late where isReach(record.event, of: workflow.deadlines[key.index], key: key, in: state) {
                runs[index].outcome = .metLate
                runs[index].settledAt = record.at
                late[key] = nil
            }
            if case .deadlineMissed(let key, let number, _) = record.event, let index = open[key] {
                runs[index].outcome = .missed
                runs[index].settledAt = record.at
                runs[index].escalation = number
            }
            // A hold with a paused clock moves a deadline not yet missed later on resume.
            for (key, due) in after where key.kind == .deadline {
                guard let index = open[key], runs[index].outcome == .pending, runs[index].due != due else { continue }
                runs[index].due = due
            }
            for (key, due) in after where key.kind == .deadline && open[key] == nil {
                open[key] = runs.count
                runs.append(
                    DeadlineRun(
                        deadline: key.index, instance: key.instance >= 0 ? key.instance : nil, armedAt: record.at, due: due,
                        outcome: .pending, settledAt: nil, escalation: nil))
            }
            for key in before.keys where key.kind == .deadline && after[key] == nil {
                guard let index = open.removeValue(forKey: key) else { continue }
                let reached = isReach(record.event, of: workflow.deadlines[key.index], key: key, in: state)
                switch runs[index].outcome {
                case .missed where reached: runs[index].outcome = .metLate
                case .missed: late[key] = index
                default: runs[index].outcome = reached ? .met : .dropped
                }
                if reached || runs[index].outcome == .dropped { runs[index].settledAt = record.at }
            }
        }
        return runs
    }

    /// Whether `event` is the deadline's `reach` moment for this timer (`state` as it left it).
    private static func isReach(_ event: OperationEvent, of deadline: DeadlineDefinition, key: TimerKey, in state: OperationState) -> Bool {
        switch (event, deadline.reach) {
        case (.phaseEntered(let phase, _), .phase(let target)): return phase == target
        // Entering a step past the target counts, as in the engine (`countsAsReaching`).
        case (.stepEntered(let instance, let step, _), .step(let branch, let target)):
            return instance == key.instance && state.workflow.branches[branch].steps[step].countsAsReaching.contains(target)
        case (.closed, .closed): return true
        // A branch awaiting units is filled by the units event after which none are missing.
        case (.unitsAssigned(let instance, _, _), .unitsFilled), (.unitsAwaited(let instance, _, _), .unitsFilled):
            return instance == key.instance && state.branches.indices.contains(instance) && state.branches[instance].missingUnits == 0
        default: return false
        }
    }
}
