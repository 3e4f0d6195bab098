import Glibc
import NIOCore

/// Reads a Unix socket peer's credentials from the kernel (`SO_PEERCRED`, and the
/// supplementary groups with `SO_PEERGROUPS`) and maps them to a role.
struct PeerCredentials {
    /// Group ids of the role groups, resolved once at start.
    /// The groups that give the roles, by name: looked up at each connection, so a group an
    /// administrator creates (or a member added to it) counts without a restart of jointopsd.
    struct RoleGroups: Sendable {
        var view: String
        var operate: String
        var admin: String

        static func gid(of name: String) -> gid_t? {
            var group = group()
            var buffer = [CChar](repeating: 0, count: 16_384)
            var result: UnsafeMutablePointer<group>?
            guard getgrnam_r(name, &group, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
            return group.gr_gid
        }

        func role(uid: uid_t, groups: [gid_t], daemonUID: uid_t) -> Role {
            if uid == 0 || uid == daemonUID { return .admin }
            for (name, role) in [(admin, Role.admin), (operate, .operate), (view, .view)] {
                if let gid = Self.gid(of: name), groups.contains(gid) { return role }
            }
            return .none
        }
    }

    /// `struct ucred` (pid, uid, gid), which Glibc only declares under _GNU_SOURCE.
    struct KernelCredentials {
        var pid: Int32
        var uid: UInt32
        var gid: UInt32
    }

    /// `SO_PEERGROUPS` (Linux ≥ 4.13).
    static let peerGroups: CInt = 59

    /// Room for 1,024 supplementary groups, zeroed by NIO before `getsockopt` fills it; role
    /// groups are never gid 0, so the unused zeros do no harm. The kernel refuses the read
    /// (ERANGE) for a caller in more: the connection is then closed (see `caller(of:roles:)`).
    /// Reproducer: with room for 32, a caller in 40 groups got no answer and each of its
    /// connections kept a file descriptor until jointopsd ran out of them.
    typealias GroupList = InlineArray<1024, gid_t>

    /// The caller on `channel`, learned from the kernel.
    static func caller(of channel: any Channel, roles: RoleGroups) -> EventLoopFuture<Caller> {
        guard let provider = channel as? any SocketOptionProvider else {
            return channel.eventLoop.makeFailedFuture(ChannelError.operationUnsupported)
        }
        let level = SocketOptionLevel(SOL_SOCKET)
        let credentials: EventLoopFuture<KernelCredentials> = provider.unsafeGetSocketOption(
            level: level, name: SocketOptionName(SO_PEERCRED))
        return credentials.flatMap { credentials in
            let groups: EventLoopFuture<GroupList> = provider.unsafeGetSocketOption(level: level, name: SocketOptionName(Self.peerGroups))
            return groups.map { list in
                var gids = withUnsafeBytes(of: list) { Array($0.bindMemory(to: gid_t.self)).filter { $0 != 0 } }
                gids.append(credentials.gid)
                return Caller(
                    uid: credentials.uid, gid: credentials.gid, pid: credentials.pid, name: userName(credentials.uid),
                    role: roles.role(uid: credentials.uid, groups: gids, daemonUID: getuid()))
            }
        }
    }

    /// Why a connection was closed unanswered when its caller could not be learned.
    static func unknownCaller(_ error: any Error) -> String {
        if (error as? IOError)?.errnoCode == ERANGE {
            return
                "a connection was closed unanswered: its caller is in more than 1,024 groups, and jointopsd learns roles from them; take the user out of groups it does not need"
        }
        return "a connection was closed unanswered: its caller could not be learned from the kernel (\(error))"
    }

    static func userName(_ uid: uid_t) -> String {
        var entry = passwd()
        var buffer = [CChar](repeating: 0, count: 16_384)
        var result: UnsafeMutablePointer<passwd>?
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name else {
            return "uid\(uid)"
        }
        return String(cString: name)
    }
}
