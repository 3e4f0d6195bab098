import JointOpsCore

/// `List`'s filters; every one optional.
public struct ListFilter: Sendable {
    public var phase: String?
    public var region: String?
    public var branch: String?
    public var priority: String?
    public var overdue: Bool
    public var includeEnded: Bool
    /// The region and its sub-regions, filled in by the engine when it checks the filter.
    var regionScope: Set<String>?

    public init(
        phase: String? = nil, region: String? = nil, branch: String? = nil, priority: String? = nil, overdue: Bool = false,
        includeEnded: Bool = false
    ) {
        self.phase = phase
        self.region = region
        self.branch = branch
        self.priority = priority
        self.overdue = overdue
        self.includeEnded = includeEnded
    }

    func matches(_ state: OperationState) -> Bool {
        if let phase, state.phaseName != phase { return false }
        if let region, !state.touches(anyOf: regionScope ?? [region]) { return false }
        if let branch, !state.hasBranch(named: branch) { return false }
        if let priority, Views.priority(state) != priority { return false }
        if overdue, !state.escalations.contains(where: { $0.isOpen && $0.timer != nil }) { return false }
        return true
    }
}

/// `Watch`'s filters: one operation, a region, a branch; every one optional.
public struct WatchFilter: Sendable, Hashable {
    public var operation: String?
    public var region: String?
    public var branch: String?
    /// The region and its sub-regions, filled in by the engine when it checks the filter.
    var regionScope: Set<String>?

    public init(operation: String? = nil, region: String? = nil, branch: String? = nil) {
        self.operation = operation
        self.region = region
        self.branch = branch
    }

    func matches(_ state: OperationState) -> Bool {
        if let operation, state.id != operation { return false }
        if let region, !state.touches(anyOf: regionScope ?? [region]) { return false }
        if let branch, !state.hasBranch(named: branch) { return false }
        return true
    }
}
