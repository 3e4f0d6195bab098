/// Every field of an operation's state, in plain values, for a store to keep as its
/// current-state projection and to restore from without replaying the log.
public struct OperationSnapshot: Sendable, Hashable {
    public var id: String
    public var workflow: String
    public var version: Int
    public var phase: PhaseRef
    public var attributes: [AttributeValue?]
    public var region: String
    public var branches: [BranchInstance]
    public var startedAt: Instant
    public var phaseEnteredAt: [Instant?]
    /// `OperationState.endedBeforePhase`; nil when the store kept none (rows written before
    /// it did): restoring then takes the instances whose last step came before the phase.
    public var endedBeforePhase: [Int]?
    public var hold: HoldState?
    public var timers: [ArmedTimer]
    public var escalations: [Escalation]
    public var sequence: Int
    public var lastChangeAt: Instant
    public var ending: String?

    public init(
        id: String, workflow: String, version: Int, phase: PhaseRef, attributes: [AttributeValue?], region: String,
        branches: [BranchInstance], startedAt: Instant, phaseEnteredAt: [Instant?], endedBeforePhase: [Int]?, hold: HoldState?,
        timers: [ArmedTimer], escalations: [Escalation], sequence: Int, lastChangeAt: Instant, ending: String?
    ) {
        self.id = id
        self.workflow = workflow
        self.version = version
        self.phase = phase
        self.attributes = attributes
        self.region = region
        self.branches = branches
        self.startedAt = startedAt
        self.phaseEnteredAt = phaseEnteredAt
        self.endedBeforePhase = endedBeforePhase
        self.hold = hold
        self.timers = timers
        self.escalations = escalations
        self.sequence = sequence
        self.lastChangeAt = lastChangeAt
        self.ending = ending
    }
}

extension OperationState {
    public var snapshot: OperationSnapshot {
        OperationSnapshot(
            id: id, workflow: workflow.id, version: workflow.version, phase: phase, attributes: attributes, region: region,
            branches: branches, startedAt: startedAt, phaseEnteredAt: phaseEnteredAt, endedBeforePhase: endedBeforePhase, hold: hold,
            timers: timers,
            escalations: escalations, sequence: sequence, lastChangeAt: lastChangeAt, ending: ending)
    }

    /// Restores a state from a snapshot of `workflow` (the same id and version).
    public init?(_ snapshot: OperationSnapshot, workflow: Workflow) {
        guard snapshot.workflow == workflow.id, snapshot.version == workflow.version,
            snapshot.attributes.count == workflow.attributes.count, snapshot.phaseEnteredAt.count == workflow.phases.count,
            snapshot.branches.allSatisfy({
                $0.definition < workflow.branches.count && $0.stepEnteredAt.count == workflow.branches[$0.definition].steps.count
            }),
            snapshot.endedBeforePhase?.allSatisfy({ snapshot.branches.indices.contains($0) }) ?? true
        else { return nil }
        self.init(id: snapshot.id, workflow: workflow, region: snapshot.region, attributes: snapshot.attributes, at: snapshot.startedAt)
        phase = snapshot.phase
        branches = snapshot.branches
        phaseEnteredAt = snapshot.phaseEnteredAt
        endedBeforePhase = snapshot.endedBeforePhase ?? endedBeforePhaseByTimes()
        hold = snapshot.hold
        timers = snapshot.timers
        escalations = snapshot.escalations
        sequence = snapshot.sequence
        lastChangeAt = snapshot.lastChangeAt
        ending = snapshot.ending
    }
}

extension OperationState {
    /// For a state stored without `endedBeforePhase`: the instances whose last step came
    /// before the current phase was entered (one that ended at that very instant counts as
    /// ended in the phase, as joins judged before the list was kept).
    fileprivate func endedBeforePhaseByTimes() -> [Int] {
        guard case .phase(let current) = phase, let enteredAt = phaseEnteredAt[current] else { return [] }
        return branches.indices.filter {
            branches[$0].status != .active && (branches[$0].stepEnteredAt[branches[$0].step] ?? enteredAt) < enteredAt
        }
    }
}
