/// What an ended operation contributes to the evaluation reports: its intervals, its
/// deadlines' outcomes and its escalations — computed once, when it ends, from its state
/// and its events, so reports are plain SQL over small rows.
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
    public var startToClosed: Int64? { ending == "closed" ? endedAt.milliseconds - startedAt.milliseconds : nil }

    /// The facts of `state`, which must have ended; `events` are all its events, from `started`.
    public init?(_ state: OperationState, events: [RecordedEvent]) {
        guard state.phase == .closed || state.phase == .cancelled else { return nil }
        let workflow = state.workflow
        operation = state.id
        self.workflow = workflow.id
        region = state.region
        priority = state.priorityLevel
        startedAt = state.startedAt
        endedAt = state.lastChangeAt
        ending = state.phase == .closed ? "closed" : "cancelled"
        disposition = state.ending ?? ""
        escalations = state.escalations.count
        branches = state.branches.map { instance in
            let definition = workflow.branches[instance.definition]
            let dispatched = instance.dispatchedAt.milliseconds
            let onScene = definition.arrivalStep.flatMap { instance.stepEnteredAt[$0] }?.milliseconds
            let completed = instance.status == .completed ? instance.stepEnteredAt[instance.step]?.milliseconds : nil
            return Branch(
                instance: instance.name, branch: definition.name, kind: definition.kind.rawValue, region: instance.region,
                status: instance.status, reportToDispatch: dispatched - state.startedAt.milliseconds,
                dispatchToScene: onScene.map { $0 - dispatched },
                sceneToCompleted: onScene.flatMap { scene in completed.map { $0 - scene } })
        }
        deadlines = OperationState.deadlineHistory(workflow, events).compactMap { run in
            guard run.outcome != .pending else { return nil }
            let late = run.settledAt.map { $0.milliseconds - run.due.milliseconds }
            return Deadline(
                deadline: workflow.deadlines[run.deadline].id,
                branch: run.instance.map { workflow.branches[state.branches[$0].definition].name },
                outcome: run.outcome,
                latenessMilliseconds: run.outcome == .metLate ? late : nil)
        }
    }
}

extension BranchDefinition {
    /// The step that means "arrived on scene", for the dispatch → on scene interval: the
    /// step named `on_scene`.
    public var arrivalStep: Int? { step(named: "on_scene") }
}
