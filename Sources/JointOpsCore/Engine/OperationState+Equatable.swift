/// Two states are equal when they are of the same workflow id and version and every field matches;
/// replay checks and "a refusal changes nothing" rely on this.
extension OperationState: Equatable {
    public static func == (lhs: OperationState, rhs: OperationState) -> Bool {
        lhs.workflow.id == rhs.workflow.id && lhs.workflow.version == rhs.workflow.version && lhs.id == rhs.id && lhs.phase == rhs.phase
            && lhs.attributes == rhs.attributes && lhs.region == rhs.region && lhs.branches == rhs.branches
            && lhs.startedAt == rhs.startedAt && lhs.phaseEnteredAt == rhs.phaseEnteredAt
            && lhs.endedBeforePhase == rhs.endedBeforePhase && lhs.hold == rhs.hold
            && lhs.timers == rhs.timers && lhs.escalations == rhs.escalations && lhs.sequence == rhs.sequence
            && lhs.lastChangeAt == rhs.lastChangeAt && lhs.ending == rhs.ending
    }
}
