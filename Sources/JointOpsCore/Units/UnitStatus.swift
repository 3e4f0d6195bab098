/// Where a unit stands, in the manner of dispatch systems.
///
/// ```
/// available ──assign──▶ dispatched ──▶ en_route ──▶ on_scene
///     ▲  ▲                  │  ╲            │            │
///     │  │                  │   ╰──────────▶│ (on_scene directly)
///     │  │                  ▼               ▼            ▼
///     │  ╰──────────── returning ◀──── release (returning) ◀
///     │                 │
///     ╰── out_of_service ◀  (from available or returning, with a reason)
/// ```
///
/// Legal transitions (`reachable`):
/// - `available` → `dispatched` (only by assigning it to an operation), `out_of_service`;
/// - `dispatched` → `en_route`, `on_scene`, and — releasing it from its operation —
///   `returning` or `available` (stood down before arriving);
/// - `en_route` → `on_scene`, `returning`, `available`;
/// - `on_scene` → `returning`, `available`;
/// - `returning` → `available`, `out_of_service`;
/// - `out_of_service` → `available`.
///
/// `dispatched`, `en_route` and `on_scene` are *committed*: the unit belongs to exactly one
/// operation's branch. Only `available` units are selected for a dispatch.
public enum UnitStatus: String, Sendable, Hashable, CaseIterable, Codable {
    case available
    case dispatched
    case enRoute = "en_route"
    case onScene = "on_scene"
    case returning
    case outOfService = "out_of_service"

    /// Whether the unit is assigned to an operation in this status.
    public var isCommitted: Bool { self == .dispatched || self == .enRoute || self == .onScene }

    /// The statuses a unit may move to from this one.
    public var reachable: [UnitStatus] {
        switch self {
        case .available: [.dispatched, .outOfService]
        case .dispatched: [.enRoute, .onScene, .returning, .available]
        case .enRoute: [.onScene, .returning, .available]
        case .onScene: [.returning, .available]
        case .returning: [.available, .outOfService]
        case .outOfService: [.available]
        }
    }

    public func canMove(to status: UnitStatus) -> Bool { reachable.contains(status) }

    /// The statuses a workflow step may set with `unit_status:` (entering the step moves
    /// the branch's units there).
    public static let stepStatuses: [UnitStatus] = [.enRoute, .onScene, .returning]
}

/// How a branch's units are released when the branch ends (`release:` in a workflow).
public enum UnitRelease: String, Sendable, Hashable, CaseIterable, Codable {
    /// Straight back to `available` (the default).
    case available
    /// To `returning`; someone marks them `available` once they are back.
    case returning

    public var status: UnitStatus { self == .available ? .available : .returning }
}
