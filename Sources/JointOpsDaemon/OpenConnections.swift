import NIOCore
import Synchronization

/// The connections being served, and whether each is in the middle of a call — so a
/// graceful shutdown can close the idle ones at once (an idle client, such as a watcher
/// whose stream has ended, would otherwise keep the daemon from stopping) and each busy one
/// right after it has answered its call.
final class OpenConnections: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: (channel: any Channel, busy: Bool)] = [:]
        var closing = false
    }

    private let state = Mutex(State())

    /// False when the daemon is already stopping (the connection should be closed).
    func opened(_ channel: any Channel) -> Bool {
        state.withLock { state in
            state.channels[ObjectIdentifier(channel)] = (channel, false)
            return !state.closing
        }
    }

    func closed(_ channel: any Channel) {
        _ = state.withLock { $0.channels.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Marks a call begun or answered; true when the connection should now close (shutdown).
    func busy(_ channel: any Channel, _ busy: Bool) -> Bool {
        state.withLock { state in
            state.channels[ObjectIdentifier(channel)]?.busy = busy
            return state.closing && !busy
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
