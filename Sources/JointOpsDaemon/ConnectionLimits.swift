import JointOpsCore
import JointOpsProtocol

/// How many connections jointopsd serves at once, and to whom. Callers without the admin
/// role may hold `total - adminReserve` together and `perUser` each, so neither one user nor
/// every other user together can lock an administrator out; admins are bounded by `total`
/// alone.
public struct ConnectionLimits: Sendable, Hashable {
    /// `max_connections`.
    public var total: Int
    /// `max_connections_per_user`, for callers without the admin role.
    public var perUser: Int
    /// `admin_reserved_connections`: slots only admins may take.
    public var adminReserve: Int

    /// The limits for `total`; left out, `adminReserve` is a quarter of it but at most 4, and
    /// `perUser` a quarter of it but at most what callers without the admin role may hold
    /// together (`total - adminReserve`), and at least 1 (see `DaemonConfiguration` for the checks).
    public init(total: Int, perUser: Int? = nil, adminReserve: Int? = nil) {
        self.total = total
        self.adminReserve = adminReserve ?? min(4, total / 4)
        self.perUser = perUser ?? max(1, min(total / 4, total - self.adminReserve))
    }

    /// Connections callers without any role may have open, all of them together: they may
    /// only ask what jointopsd is (org.varlink.service), and must not take the slots of those
    /// with a role (reproducer: four such users holding 64 idle connections each locked every
    /// operator out).
    static let withoutRole = 8

    /// Why `caller` may not have another connection, with `open` connections open in all,
    /// `openByUser` of them its user's and `openWithoutRole` of them callers' without a role;
    /// nil when it may.
    func refusal(for caller: Caller, open: Int, openByUser: Int, openWithoutRole: Int = 0) -> VarlinkError? {
        let who = "\(caller.name) (uid \(caller.uid))"
        if caller.role == .none, openWithoutRole >= Self.withoutRole {
            return Self.error(
                "max_connections", Self.withoutRole,
                "\(who) has no role here (view, operate or admin), and callers without one have \(openWithoutRole) connections open, all they may; ask an administrator to add you to the group of the role you need"
            )
        }
        if caller.role == .admin {
            guard open >= total else { return nil }
            return Self.error(
                "max_connections", total,
                "jointopsd has \(open) connections open, its max_connections, so it closed this one from \(who); close idle clients (a forgotten 'jointopsctl watch'?), or raise max_connections in jointopsd.yaml and restart jointopsd"
            )
        }
        if openByUser >= perUser {
            return Self.error(
                "max_connections_per_user", perUser,
                "\(who) has \(openByUser) connections open to jointopsd, the most one user may have (max_connections_per_user), so it closed this one; close one you no longer need (a forgotten 'jointopsctl watch'?) and try again"
            )
        }
        guard open >= total - adminReserve else { return nil }
        return Self.error(
            "max_connections", total - adminReserve,
            "jointopsd has \(open) connections open, all it accepts from callers without the admin role (max_connections \(total) less admin_reserved_connections \(adminReserve)), so it closed this one from \(who); try again shortly, or ask an administrator to close idle clients or raise max_connections"
        )
    }

    private static func error(_ setting: String, _ limit: Int, _ reason: String) -> VarlinkError {
        VarlinkError(
            "io.jointops.Operations.TooManyConnections",
            ["setting": .string(setting), "limit": .int(Int64(limit)), "reason": .string(reason)])
    }
}
