/// What a caller may do. Roles are ordered: each includes the ones below it.
public enum Role: Int, Sendable, Comparable, CustomStringConvertible {
    /// In no jointops group: may only introspect the service.
    case none = 0
    /// Read and watch.
    case view = 1
    /// Drive operations.
    case operate = 2
    /// Verify, back up, reload.
    case admin = 3

    public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .none: "none"
        case .view: "view"
        case .operate: "operate"
        case .admin: "admin"
        }
    }
}

/// Who is on the other end of a connection, as the kernel reported it.
public struct Caller: Sendable, Hashable {
    public var uid: UInt32
    public var gid: UInt32
    public var pid: Int32
    public var name: String
    public var role: Role
}
