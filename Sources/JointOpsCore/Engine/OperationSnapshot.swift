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
    public var hold: HoldState?
    public var timers: [ArmedTimer]
    public var escalations: [Escalation]
    public var sequence: Int
    public var lastChangeAt: Instant
    public var ending: String?

    public init(
        id: String, workflow: String, version: Int, phase: PhaseRef, attributes: [AttributeValue?], region: String,
        branches: [BranchInstance], startedAt: Instant, phaseEnteredAt: [Instant?], hold: HoldState?, timers: [ArmedTimer],
        escalations: [Escalation], sequence: Int, lastChangeAt: Instant, ending: String?
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
            branches: branches, startedAt: startedAt, phaseEnteredAt: phaseEnteredAt, hold: hold, timers: timers,
            escalations: escalations, sequence: sequence, lastChangeAt: lastChangeAt, ending: ending)
    }

    /// Restores a state from a snapshot of `workflow` (the same id and version).
    public init?(_ snapshot: OperationSnapshot, workflow: Workflow) {
        guard snapshot.workflow == workflow.id, snapshot.version == workflow.version,
            snapshot.attributes.count == workflow.attributes.count, snapshot.phaseEnteredAt.count == workflow.phases.count,
            snapshot.branches.allSatisfy({
                $0.definition < workflow.branches.count && $0.stepEnteredAt.count == workflow.branches[$0.definition].steps.count
            })
        else { return nil }
        self.init(id: snapshot.id, workflow: workflow, region: snapshot.region, attributes: snapshot.attributes, at: snapshot.startedAt)
        phase = snapshot.phase
        branches = snapshot.branches
        phaseEnteredAt = snapshot.phaseEnteredAt
        hold = snapshot.hold
        timers = snapshot.timers
        escalations = snapshot.escalations
        sequence = snapshot.sequence
        lastChangeAt = snapshot.lastChangeAt
        ending = snapshot.ending
    }
}
