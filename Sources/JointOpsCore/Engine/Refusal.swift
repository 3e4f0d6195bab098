/// Why the engine refused a command: what was wrong, the state the operation is in, and
/// what it accepts now. Nothing was applied.
public struct Refusal: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable, Codable {
        case invalidAttribute = "invalid_attribute"
        case eventNotAccepted = "event_not_accepted"
        case guardNotSatisfied = "guard_not_satisfied"
        case unknownBranch = "unknown_branch"
        case branchNotActive = "branch_not_active"
        case stepNotAllowed = "step_not_allowed"
        case notReinforceable = "not_reinforceable"
        case notAllowed = "not_allowed"
        case onHold = "on_hold"
        case unknownEscalation = "unknown_escalation"
        case invalidReason = "invalid_reason"
        case branchesActive = "branches_active"
        case operationEnded = "operation_ended"
        case timerNotDue = "timer_not_due"
        case invalidArgument = "invalid_argument"
    }

    public var code: Code
    /// What was wrong with the command.
    public var reason: String
    public var operation: String
    /// The phase the operation is in.
    public var phase: String
    /// Commands the operation accepts now, e.g. `fire assess`, `advance swat → on_scene`.
    public var allowed: [String]
    /// The command's parameter that is wrong in itself, whatever the operation's state (an
    /// id not made of the allowed characters, a reason of only spaces), when one is: a
    /// mistake in the call rather than a refusal by the operation, as the daemon answers it.
    public var parameter: String? = nil

    public var description: String {
        var text = "\(reason) (operation \(operation) is in phase '\(phase)')"
        if !allowed.isEmpty { text += "; allowed now: \(allowed.joined(separator: "; "))" }
        return text
    }
}
