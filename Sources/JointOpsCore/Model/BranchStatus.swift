/// Where a branch stands as a whole; derived from its current step.
public enum BranchStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case notDispatched = "not_dispatched"
    case active
    case completed
    case failed
    case stoodDown = "stood_down"

    /// The statuses an end step may declare.
    public static let endStatuses: [BranchStatus] = [.completed, .failed, .stoodDown]

    public var isEnded: Bool { self == .completed || self == .failed || self == .stoodDown }
}
