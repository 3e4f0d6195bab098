import NIOCore
import Synchronization

/// Counts the open metrics connections against `MetricsConnectionLimits.open`, and says when
/// to warn about the ones refused: at most once a minute, however many there are.
final class MetricsConnectionGate: Sendable {
    enum Admission: Equatable {
        case admitted
        /// Beyond the limit; `warning` is the number refused since the last warning (this one
        /// included) when a warning is due now, nil when one was given less than a minute ago.
        case refused(warning: Int?)
    }

    private struct State {
        var open = 0
        var refusedSinceWarning = 0
        var lastWarning: NIODeadline?
    }

    static let warningInterval = TimeAmount.minutes(1)

    let limit: Int
    private let now: @Sendable () -> NIODeadline
    private let state = Mutex(State())

    init(limit: Int, now: @escaping @Sendable () -> NIODeadline = { NIODeadline.now() }) {
        self.limit = limit
        self.now = now
    }

    /// Admits one more connection, or refuses it. An admitted one must be given back with `closed`.
    func admit() -> Admission {
        let now = now()
        return state.withLock { state in
            if state.open < limit {
                state.open += 1
                return .admitted
            }
            state.refusedSinceWarning += 1
            if let last = state.lastWarning, now - last < Self.warningInterval { return .refused(warning: nil) }
            state.lastWarning = now
            defer { state.refusedSinceWarning = 0 }
            return .refused(warning: state.refusedSinceWarning)
        }
    }

    func closed() {
        state.withLock { $0.open -= 1 }
    }

    var open: Int { state.withLock { $0.open } }
}
