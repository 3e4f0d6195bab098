/// A unit that can be dispatched: a patrol car, a SWAT team, an investigator.
public struct Unit: Sendable, Hashable {
    /// `[a-z][a-z0-9_-]*`, unique in the roster.
    public var id: String
    /// What the radio calls it, e.g. "河西特警1组" or "Hexi SWAT 1".
    public var callSign: String
    /// The branch kind it serves (a workflow branch's `kind`).
    public var kind: BranchDefinition.Kind
    /// The region it is stationed in; selection measures nearness from here.
    public var homeRegion: String
    /// Free-form abilities a workflow can require, e.g. `armed`, `negotiator`, `k9`.
    public var capabilities: Set<String>
    public internal(set) var status: UnitStatus
    /// Why it is out of service (or the last reason given for a status change).
    public internal(set) var statusReason: String?
    /// The operation branch it is committed to; set exactly when `status.isCommitted`.
    public internal(set) var assignment: UnitAssignment?
    /// A retired unit stays in the roster for the record but is never selected again.
    public internal(set) var retired: Bool

    /// A new unit, available and not retired.
    public init(id: String, callSign: String, kind: BranchDefinition.Kind, homeRegion: String, capabilities: Set<String> = []) {
        self.id = id
        self.callSign = callSign
        self.kind = kind
        self.homeRegion = homeRegion
        self.capabilities = capabilities
        status = .available
        statusReason = nil
        assignment = nil
        retired = false
    }

    /// A unit as it was stored, for restoring a roster.
    package init(
        id: String, callSign: String, kind: BranchDefinition.Kind, homeRegion: String, capabilities: Set<String>,
        status: UnitStatus, statusReason: String?, assignment: UnitAssignment?, retired: Bool
    ) {
        self.init(id: id, callSign: callSign, kind: kind, homeRegion: homeRegion, capabilities: capabilities)
        self.status = status
        self.statusReason = statusReason
        self.assignment = assignment
        self.retired = retired
    }

    /// Whether selection may pick it.
    public var isSelectable: Bool { status == .available && !retired }
}

/// A branch instance of an operation that units are committed to.
public struct UnitAssignment: Sendable, Hashable, Codable, CustomStringConvertible {
    public var operation: String
    /// The branch instance's index in the operation (as the engine numbers instances).
    public var instance: Int

    public init(operation: String, instance: Int) {
        self.operation = operation
        self.instance = instance
    }

    public var description: String { "operation \(operation) branch instance \(instance)" }
}
