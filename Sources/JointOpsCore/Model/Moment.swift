/// A moment in an operation's life that a deadline can be measured from or must reach.
public enum Moment: Sendable, Hashable, CustomStringConvertible {
    case started
    case phase(Int)
    case step(branch: Int, step: Int)
    case closed
    /// An instance of the branch began awaiting units (too few were free at dispatch).
    case unitsAwaited(branch: Int)
    /// An instance of the branch that awaited units has all it asked for.
    case unitsFilled(branch: Int)

    /// The branch this moment belongs to, if any.
    public var branch: Int? {
        switch self {
        case .step(let branch, _), .unitsAwaited(let branch), .unitsFilled(let branch): branch
        default: nil
        }
    }

    public var description: String {
        switch self {
        case .started: "started"
        case .phase(let index): "phase#\(index)"
        case .step(let branch, let step): "branch#\(branch).step#\(step)"
        case .closed: "closed"
        case .unitsAwaited(let branch): "branch#\(branch).awaiting_units"
        case .unitsFilled(let branch): "branch#\(branch).units_filled"
        }
    }
}
