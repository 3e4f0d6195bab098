/// Something the daemon must do after a command's events are durable. Core only describes it.
public enum Effect: Sendable, Hashable {
    case armTimer(TimerKey, due: Instant)
    case cancelTimer(TimerKey)
    /// Tell an audience (`duty_commander`, `branch_lead`, …) about an escalation.
    case notify(audience: String, message: String)
    /// Commit units of a branch to a region: `units` of the branch's kind with every capability
    /// in `capabilities` (the branch's and the dispatch's).
    case dispatchUnits(instance: String, branch: String, region: String, units: Int, capabilities: [String] = [])
    /// The branch instance ended: its units are free again.
    case releaseUnits(instance: String)
}

extension Effect {
    /// Whether the effect arms or cancels a timer.
    public var touchesTimers: Bool {
        switch self {
        case .armTimer, .cancelTimer: true
        default: false
        }
    }
}
