/// A moment in an operation's life that a deadline can be measured from or must reach.
public enum Moment: Sendable, Hashable, CustomStringConvertible {
    case started
    case phase(Int)
    case step(branch: Int, step: Int)
    case closed

    /// The branch this moment belongs to, if any.
    public var branch: Int? {
        if case .step(let branch, _) = self { return branch }
        return nil
    }

    public var description: String {
        switch self {
        case .started: "started"
        case .phase(let index): "phase#\(index)"
        case .step(let branch, let step): "branch#\(branch).step#\(step)"
        case .closed: "closed"
        }
    }
}
