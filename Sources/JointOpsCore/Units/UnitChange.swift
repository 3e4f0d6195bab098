/// What a roster mutation changed: one value per unit touched, for the daemon to log as
/// events and show on the watch stream.
public enum UnitChange: Sendable, Hashable {
    case added(Unit)
    /// Call sign, capabilities or home region changed.
    case edited(before: Unit, after: Unit)
    case retired(Unit)
    /// A status change that did not change the assignment (en route, on scene, out of
    /// service and back).
    case statusChanged(unit: String, from: UnitStatus, to: UnitStatus, reason: String?)
    /// Committed to a branch instance: now `dispatched`.
    case assigned(unit: String, to: UnitAssignment)
    /// No longer committed to `from`; now `to` (`available` or `returning`).
    case released(unit: String, from: UnitAssignment, to: UnitStatus)
    /// Taken from `from` (which lost it) and committed to `to`, now `dispatched`.
    case preempted(unit: String, from: UnitAssignment, to: UnitAssignment, reason: String)

    /// The unit the change is about.
    public var unit: String {
        switch self {
        case .added(let unit), .retired(let unit), .edited(_, let unit): unit.id
        case .statusChanged(let unit, _, _, _), .assigned(let unit, _), .released(let unit, _, _), .preempted(let unit, _, _, _): unit
        }
    }
}

/// Why the roster refused a change or a selection; nothing was changed.
public struct UnitRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable, Codable {
        case unknownUnit = "unknown_unit"
        case duplicateUnit = "duplicate_unit"
        case unknownRegion = "unknown_region"
        case invalidArgument = "invalid_argument"
        case illegalTransition = "illegal_transition"
        case committed
        case notAvailable = "not_available"
        /// Units for a branch instance that awaits none (or fewer).
        case notShort = "not_short"
        /// A unit without a capability the branch instance requires.
        case missingCapability = "missing_capability"
        case retired
        /// A status change that must say why (out_of_service) said nothing: a mistake in
        /// the call, not a refusal of the roster's state (the daemon answers InvalidParameter).
        case reasonRequired = "reason_required"
    }

    public var code: Code
    /// The unit concerned, when there is one.
    public var unit: String?
    /// What was wrong and how to put it right.
    public var message: String

    public init(_ code: Code, unit: String?, _ message: String) {
        self.code = code
        self.unit = unit
        self.message = message
    }

    public var description: String { message }
}
