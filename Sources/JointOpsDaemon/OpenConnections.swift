import JointOpsProtocol
import NIOCore
import Synchronization

/// The connections being served: which may open (within `ConnectionLimits`), how many each
/// user has, and whether each is in the middle of a call — so a graceful shutdown can close
/// the idle ones at once (an idle client, such as a watcher whose stream has ended, would
/// otherwise keep the daemon from stopping) and each busy one right after it has answered.
final class OpenConnections: Sendable {
    enum Admission {
        case admitted
        /// Beyond a limit: tell the caller why (`reply`), or, when `refusalsAtOnce` refusals
        /// are still being told, close it without a word (a flood of connections must not
        /// cost the daemon more file descriptors than that).
        case refused(VarlinkError, reply: Bool)
        /// The daemon is stopping.
        case stopping
    }

    private struct State {
        var channels: [ObjectIdentifier: (channel: any Channel, uid: UInt32, busy: Bool, withoutRole: Bool)] = [:]
        var perUser: [UInt32: Int] = [:]
        var withoutRole = 0
        var refusing = 0
        var closing = false
    }

    let limits: ConnectionLimits
    /// As many as `limits.total`, but at least 256.
    let refusalsAtOnce: Int
    private let state = Mutex(State())

    init(limits: ConnectionLimits) {
        self.limits = limits
        refusalsAtOnce = max(limits.total, 256)
    }

    /// Admits `channel`, or says why not. An admitted one must be given back with `closed`,
    /// a refusal with a reply with `refused`.
    func admit(_ channel: any Channel, _ caller: Caller) -> Admission {
        state.withLock { state in
            if state.closing { return .stopping }
            if let error = limits.refusal(
                for: caller, open: state.channels.count, openByUser: state.perUser[caller.uid] ?? 0, openWithoutRole: state.withoutRole)
            {
                guard state.refusing < refusalsAtOnce else { return .refused(error, reply: false) }
                state.refusing += 1
                return .refused(error, reply: true)
            }
            state.channels[ObjectIdentifier(channel)] = (channel, caller.uid, false, caller.role == .none)
            state.perUser[caller.uid, default: 0] += 1
            if caller.role == .none { state.withoutRole += 1 }
            return .admitted
        }
    }

    func closed(_ channel: any Channel) {
        state.withLock { state in
            guard let removed = state.channels.removeValue(forKey: ObjectIdentifier(channel)) else { return }
            let uid = removed.uid
            if removed.withoutRole { state.withoutRole -= 1 }
            state.perUser[uid]! -= 1
            if state.perUser[uid] == 0 { state.perUser[uid] = nil }
        }
    }

    /// A refusal has been told (or given up on).
    func refused() {
        state.withLock { $0.refusing -= 1 }
    }

    /// Marks a call begun; false when the daemon is stopping, and the call must not run (its
    /// connection may already have been closed as idle, so its reply could not be sent).
    func begin(_ channel: any Channel) -> Bool {
        state.withLock { state in
            guard !state.closing else { return false }
            state.channels[ObjectIdentifier(channel)]?.busy = true
            return true
        }
    }

    /// Marks a call answered; true when the connection should now close (shutdown).
    func answered(_ channel: any Channel) -> Bool {
        state.withLock { state in
            state.channels[ObjectIdentifier(channel)]?.busy = false
            return state.closing
        }
    }

    /// Closes every idle connection now; busy ones close after their call (see `busy`).
    func closeIdle() {
        let idle = state.withLock { state in
            state.closing = true
            return state.channels.values.filter { !$0.busy }.map(\.channel)
        }
        for channel in idle { channel.close(promise: nil) }
    }
}
