import Dispatch
import NIOCore
import Synchronization

/// Connections whose client has stopped reading: a write to it waits for room in the
/// socket, so a watch can neither go on nor tell the client it was cut off, and a call's
/// connection can neither answer nor close (a graceful stop waits for it). A client such as
/// `jointopsctl watch | less` left on a screen, or a script that sends calls and never reads
/// the replies, would otherwise hold its connection for as long as it stays open. A sweep
/// closes any whose write has waited longer than the limit without the client taking any of
/// what was queued for it meanwhile.
///
/// A client that reads, only slowly, is not closed: a watcher that cannot keep up is then
/// told `WatcherTooSlow` once its write is done. (Before, a slow reader's one large write
/// outwaited the limit, and it was closed without a word.) Its progress is seen in the
/// channel's unwritten bytes, which fall as the socket takes them — a Unix socket frees its
/// room some 36 KB at a time, so a client reading 20 KB/s shows progress every two seconds
/// or so, well within the limit.
final class StalledWrites: Sendable {
    /// One connection, and since when its current write has waited (0: none waiting).
    final class Writer: Sendable {
        let channel: any Channel
        /// The client's uid, for the log.
        let uid: UInt32
        fileprivate let waitingSince = Atomic<UInt64>(0)
        /// When the client last took queued bytes during the current write (0: not since it began).
        fileprivate let progressAt = Atomic<UInt64>(0)
        /// The channel's unwritten bytes at the sweep before (-1: none yet in this write).
        fileprivate let unwritten = Atomic<Int>(-1)

        fileprivate init(channel: any Channel, uid: UInt32) {
            self.channel = channel
            self.uid = uid
        }

        /// Runs one write, marked as waiting while it does.
        func write(_ body: () async throws -> Void) async rethrows {
            progressAt.store(0, ordering: .relaxed)
            unwritten.store(-1, ordering: .relaxed)
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

    /// Looks at every connection whose write is waiting: one whose client took none of its
    /// queued bytes for longer than `limit` is closed and handed to `closed`. Called
    /// periodically, a few times per limit.
    func closeStalled(waitingLongerThan limit: Duration, closed: @escaping @Sendable (Writer) -> Void) {
        let limitNanoseconds = UInt64(limit.components.seconds) * 1_000_000_000 + UInt64(limit.components.attoseconds / 1_000_000_000)
        let waiting = writers.withLock { writers in writers.values.filter { $0.waitingSince.load(ordering: .relaxed) != 0 } }
        for writer in waiting {
            writer.channel.getOption(ChannelOptions.bufferedWritableBytes).whenComplete { result in
                let since = writer.waitingSince.load(ordering: .relaxed)
                guard since != 0 else { return }  // the write is done
                let now = DispatchTime.now().uptimeNanoseconds
                if case .success(let bytes) = result {
                    let before = writer.unwritten.exchange(bytes, ordering: .relaxed)
                    if before >= 0, bytes < before { writer.progressAt.store(now, ordering: .relaxed) }
                }
                let lastMoved = max(since, writer.progressAt.load(ordering: .relaxed))
                guard now - min(now, lastMoved) > limitNanoseconds else { return }
                writer.channel.close(promise: nil)
                closed(writer)
            }
        }
    }
}
