import Foundation
import Synchronization

/// Keeps asking systemd for more start time while jointopsd opens and recovers its store:
/// the integrity check grows with the file (6.6 s for 3.8 GB in a scale audit), so one
/// request for a fixed time would fail the start of a large enough store, or of one on a
/// slow disk, and `Restart=` would loop it. Each request is for 30 s more, every 10 s, until
/// `end()`; outside systemd the requests go nowhere.
final class StartTimeoutExtension: Sendable {
    private let ended = Atomic(false)

    init(status: String) {
        Systemd.notify("EXTEND_TIMEOUT_USEC=30000000\nSTATUS=\(status)")
        Thread.detachNewThread { [self] in
            var slept = 0
            while !ended.load(ordering: .relaxed) {
                usleep(100_000)
                slept += 1
                if slept % 100 == 0, !ended.load(ordering: .relaxed) { Systemd.notify("EXTEND_TIMEOUT_USEC=30000000") }
            }
        }
    }

    func end() { ended.store(true, ordering: .relaxed) }
}
