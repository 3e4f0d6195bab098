/// What an ended operation contributes to the evaluation reports: its intervals, its
/// deadlines' outcomes and its escalations — computed once, when it ends, from its state
/// and its events, so reports are plain SQL over small rows.
///
/// No interval or lateness is negative, nor does an operation end before it started:
/// jointopsd stamps an operation's events in time order even when the system clock steps
/// back, but an operation stored before it did may have an event from before such a step,
/// and its facts must still pass the report tables' checks, or it could never be closed.
public struct OperationFacts: Sendable, Hashable {
    public struct Branch: Sendable, Hashable {
        public var instance: String
        public var branch: String
        public var kind: String
        public var region: String
        public var status: BranchStatus
        /// Operation start (the report) to this instance's dispatch, in milliseconds.
        public var reportToDispatch: Int64
        /// Dispatch to arrival on scene; nil when the branch never arrived.
        public var dispatchToScene: Int64?
        /// Arrival on scene to completion; nil unless the branch arrived and completed.
        public var sceneToCompleted: Int64?
        /// Dispatch to the moment the branch had every unit it asked for (time to assign);
        /// nil when it never had them (or no units were kept).
        public var dispatchToAssigned: Int64? = nil
        /// Whether the branch awaited units and never had all it asked for: the branches the
        /// time to assign leaves out (a branch with no unit events at all — no roster — is
        /// neither measured nor short).
        public var unitsShort = false
        /// Units committed to the instance over its life.
        public var unitsAssigned = 0
        /// Unit-time the instance held: for each unit, assignment to release, in milliseconds.
        public var unitMilliseconds: Int64 = 0
    }

    public struct Deadline: Sendable, Hashable {
        public var deadline: String
        /// The branch a branch deadline belongs to.
        public var branch: String?
        public var outcome: DeadlineRun.Outcome
        /// How late it was reached, for `metLate`.
        public var latenessMilliseconds: Int64?
    }

    public var operation: String
    public var workflow: String
    public var region: String
    public var priority: Int?
    public var startedAt: Instant
    public var endedAt: Instant
    /// `closed` or `cancelled`.
    public var ending: String
    /// The disposition (closed) or reason (cancelled).
    public var disposition: String
    /// Escalations opened over the operation's life.
    public var escalations: Int
    public var branches: [Branch]
    public var deadlines: [Deadline]

    /// Start to close; nil for a cancelled operation.
    public var startToClosed: Int64? { ending == "closed" ? Self.interval(from: startedAt, to: endedAt) : nil }

    /// Milliseconds from `start` to `end`, or 0 if the clock had stepped back between them.
    static func interval(from start: Instant, to end: Instant) -> Int64 { max(0, end.since(start)) }

    /// The facts of `state`, which must have ended; `events` are all its events, from `started`.
    public init?(_ state: OperationState, events: [RecordedEvent]) {
        guard state.phase == .closed || state.phase == .cancelled else { return nil }
        let workflow = state.workflow
        operation = state.id
        self.workflow = workflow.id
        region = state.region
        priority = state.priorityLevel
        startedAt = state.startedAt
        // When it closed or was cancelled — not its last change: a rating comes later.
        endedAt = max(
            startedAt,
            events.last { record in
                switch record.event {
                case .closed, .cancelled: true
                default: false
                }
            }?.at ?? state.lastChangeAt)
        ending = state.phase == .closed ? "closed" : "cancelled"
        disposition = state.ending ?? ""
        escalations = state.escalations.count
        branches = state.branches.map { instance in
            let definition = workflow.branches[instance.definition]
            let dispatched = instance.dispatchedAt
            let onScene = definition.arrivalStep.flatMap { instance.stepEnteredAt[$0] }
            let completed = instance.status == .completed ? instance.stepEnteredAt[instance.step] : nil
            return Branch(
                instance: instance.name, branch: definition.name, kind: definition.kind.rawValue, region: instance.region,
                status: instance.status, reportToDispatch: Self.interval(from: state.startedAt, to: dispatched),
                dispatchToScene: onScene.map { Self.interval(from: dispatched, to: $0) },
                sceneToCompleted: onScene.flatMap { scene in completed.map { Self.interval(from: scene, to: $0) } })
        }
        Self.addUnits(events, startedAt: startedAt, endedAt: endedAt, to: &branches)
        deadlines = OperationState.deadlineHistory(workflow, events).compactMap { run in
            guard run.outcome != .pending else { return nil }
            let late = run.settledAt.map { Self.interval(from: run.due, to: $0) }
            return Deadline(
                deadline: workflow.deadlines[run.deadline].id,
                branch: run.instance.map { workflow.branches[state.branches[$0].definition].name },
                outcome: run.outcome,
                latenessMilliseconds: run.outcome == .metLate ? late : nil)
        }
    }
}

extension OperationFacts {
    /// Time to assign, units assigned and unit-time per instance, from the unit events.
    static func addUnits(_ events: [RecordedEvent], startedAt: Instant, endedAt: Instant, to branches: inout [Branch]) {
        var missing: [Int: Int] = [:]
        var awaited: Set<Int> = []
        var since: [String: (instance: Int, at: Instant)] = [:]
        func release(_ unit: String, at: Instant) {
            guard let held = since.removeValue(forKey: unit), held.instance < branches.count else { return }
            branches[held.instance].unitMilliseconds += interval(from: held.at, to: at)
        }
        for (position, record) in events.enumerated() {
            switch record.event {
            case .unitsAssigned(let instance, let units, _) where instance < branches.count:
                for unit in units { since[unit] = (instance, record.at) }
                branches[instance].unitsAssigned += units.count
                missing[instance] = max(0, (missing[instance] ?? 0) - units.count)
            case .unitsAwaited(let instance, let count, _):
                missing[instance] = count
                if count > 0 { awaited.insert(instance) }
            case .unitsReleased(_, let units, _, _):
                for unit in units { release(unit, at: record.at) }
            case .unitPreempted(_, let unit, _, _):
                release(unit, at: record.at)
            default:
                break
            }
            // A branch is assigned once nothing is missing after its first units came — judged
            // after all of one moment's events: a dispatch records the units it found before
            // the shortfall it leaves.
            guard position == events.count - 1 || events[position + 1].at != record.at else { continue }
            for (instance, count) in missing where count == 0 && branches[instance].dispatchToAssigned == nil {
                guard instance < branches.count, branches[instance].unitsAssigned > 0 else { continue }
                branches[instance].dispatchToAssigned = interval(
                    from: startedAt + branches[instance].reportToDispatch, to: record.at)
            }
        }
        for unit in Array(since.keys) { release(unit, at: endedAt) }
        for instance in awaited where instance < branches.count && branches[instance].dispatchToAssigned == nil {
            branches[instance].unitsShort = true
        }
    }
}

extension BranchDefinition {
    /// The step that means "arrived on scene", for the dispatch → on scene interval: the
    /// step named `on_scene`.
    public var arrivalStep: Int? { step(named: "on_scene") }
}
