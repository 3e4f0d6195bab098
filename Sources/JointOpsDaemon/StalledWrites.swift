import Dispatch
import NIOCore
import Synchronization

/// Watch streams whose client has stopped reading: a write to it waits for room in the
/// socket, so the watch can neither go on nor tell the client it was cut off. A client
/// such as `jointopsctl watch | less`, left on a screen, would otherwise hold its connection
/// for as long as it stays open. A sweep closes any whose write has waited longer than the
/// limit.
final class StalledWrites: Sendable {
    /// One watch's connection, and since when its current write has waited (0: none waiting).
    final class Watch: Sendable {
        let channel: any Channel
        /// The watcher's uid, for the log.
        let uid: UInt32
        fileprivate let waitingSince = Atomic<UInt64>(0)

        fileprivate init(channel: any Channel, uid: UInt32) {
            self.channel = channel
            self.uid = uid
        }

        /// Runs one write, marked as waiting while it does.
        func write(_ body: () async throws -> Void) async rethrows {
            waitingSince.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
            defer { waitingSince.store(0, ordering: .relaxed) }
            try await body()
        }
    }

    private let watches = Mutex<[ObjectIdentifier: Watch]>([:])

    func register(_ channel: any Channel, uid: UInt32) -> Watch {
        let watch = Watch(channel: channel, uid: uid)
        watches.withLock { $0[ObjectIdentifier(watch)] = watch }
        return watch
    }

    func unregister(_ watch: Watch) {
        _ = watches.withLock { $0.removeValue(forKey: ObjectIdentifier(watch)) }
    }

    /// Closes the connections whose write has waited longer than `limit`; returns their watches.
    @discardableResult
    func closeStalled(waitingLongerThan limit: Duration) -> [Watch] {
        let now = DispatchTime.now().uptimeNanoseconds
        let limitNanoseconds = UInt64(limit.components.seconds) * 1_000_000_000 + UInt64(limit.components.attoseconds / 1_000_000_000)
        let stalled = watches.withLock { watches in
            watches.values.filter { watch in
                let since = watch.waitingSince.load(ordering: .relaxed)
                return since != 0 && now - min(now, since) > limitNanoseconds
            }
        }
        for watch in stalled { watch.channel.close(promise: nil) }
        return stalled
    }
}
