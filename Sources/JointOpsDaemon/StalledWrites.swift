import Dispatch
import NIOCore
import Synchronization

/// Connections whose client has stopped reading: a write to it waits for room in the
/// socket, so a watch can neither go on nor tell the client it was cut off, and a call's
/// connection can neither answer nor close (a graceful stop waits for it). A client such as
/// `jointopsctl watch | less` left on a screen, or a script that sends calls and never reads
/// the replies, would otherwise hold its connection for as long as it stays open. A sweep
/// closes any whose write has waited longer than the limit.
final class StalledWrites: Sendable {
    /// One connection, and since when its current write has waited (0: none waiting).
    final class Writer: Sendable {
        let channel: any Channel
        /// The client's uid, for the log.
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

    private let writers = Mutex<[ObjectIdentifier: Writer]>([:])

    func register(_ channel: any Channel, uid: UInt32) -> Writer {
        let writer = Writer(channel: channel, uid: uid)
        writers.withLock { $0[ObjectIdentifier(writer)] = writer }
        return writer
    }

    func unregister(_ writer: Writer) {
        _ = writers.withLock { $0.removeValue(forKey: ObjectIdentifier(writer)) }
    }

    /// Closes the connections whose write has waited longer than `limit`; returns them.
    @discardableResult
    func closeStalled(waitingLongerThan limit: Duration) -> [Writer] {
        let now = DispatchTime.now().uptimeNanoseconds
        let limitNanoseconds = UInt64(limit.components.seconds) * 1_000_000_000 + UInt64(limit.components.attoseconds / 1_000_000_000)
        let stalled = writers.withLock { writers in
            writers.values.filter { writer in
                let since = writer.waitingSince.load(ordering: .relaxed)
                return since != 0 && now - min(now, since) > limitNanoseconds
            }
        }
        for writer in stalled { writer.channel.close(promise: nil) }
        return stalled
    }
}
