/// What an operator (or a timer) asks of a running operation.
public enum Command: Sendable, Hashable {
    /// Fire a phase event (`assess`, `dispatch`, …).
    case fire(event: String)
    /// Move a branch instance to a step, directly or through a named outcome.
    case advance(branch: String, to: String?, outcome: String?)
    /// Add a branch at run time (one of the workflow's `reinforce` list).
    case reinforce(branch: String, units: Int?, region: String?)
    /// Move the operation (or one branch instance) to another region.
    case reassign(region: String, branch: String?)
    case hold(reason: String)
    case resume
    /// Raise an escalation by hand.
    case escalate(reason: String, to: String?)
    case acknowledge(AcknowledgeTarget)
    case note(String)
    /// Change attributes, given as text as at the start (`weapon_involved: "true"`); an
    /// empty text removes an optional attribute (back to its default, if it has one).
    case setAttributes([String: String])
    case cancel(reason: String)
    case close(disposition: String)
    /// A timer the daemon armed has come due.
    case timerFired(TimerKey)

    /// Whether the command, if accepted, ends the operation (close, cancel).
    public var endsOperation: Bool {
        switch self {
        case .cancel, .close: true
        default: false
        }
    }

    /// The command's name as operators type it.
    public var name: String {
        switch self {
        case .fire: "fire"
        case .advance: "advance"
        case .reinforce: "reinforce"
        case .reassign: "reassign"
        case .hold: "hold"
        case .resume: "resume"
        case .escalate: "escalate"
        case .acknowledge: "acknowledge"
        case .note: "note"
        case .setAttributes: "set"
        case .cancel: "cancel"
        case .close: "close"
        case .timerFired: "timer"
        }
    }
}

/// Which escalation an acknowledgement is for.
public enum AcknowledgeTarget: Sendable, Hashable {
    /// By the escalation's number within the operation (1, 2, …).
    case escalation(Int)
    /// The open escalation of a deadline.
    case deadline(String)
}
