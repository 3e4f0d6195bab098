import CLinux
import Foundation
import JointOpsProtocol
import Synchronization

/// The daemon benchmark's open-loop load and its watchers, each served by one thread waiting
/// in `ppoll` for all its connections, as `MultiplexedLoad` is: a thread per connection (64
/// senders, 100 watchers) woke a thread for every reply on a 2-core machine the daemon
/// shares, so the figures measured the load generator's scheduling as much as the daemon.
enum MultiplexedClients {
    /// Round trips of notes sent on a fixed schedule, `perSecond` in all, spread evenly over
    /// `connections` (each connection's sends anchored to it: one that falls behind, its reply
    /// late, sends at once when the reply is in). Milliseconds each, and the time it took.
    static func offeredLoad(
        socket: String, perSecond: Int, connections: Int, seconds: Double
    ) throws -> (latencies: [Double], elapsed: Double) {
        // Woken at each send's time, not up to 50 µs after it (Linux's default timer slack).
        _ = jointops_set_timer_slack(1000)
        let clients = try (0..<connections).map { _ in try VarlinkClient(socketPath: socket) }
        let calls = (0..<connections).map { DaemonBenchmark.Note.call(operation: "B-\($0 % 64)", text: "offered load") }
        let interval = UInt64(Double(connections) / Double(perSecond) * 1e9)
        let start = DispatchTime.now().uptimeNanoseconds
        let end = start + UInt64(seconds * 1e9)
        var sent = [Int](repeating: 0, count: connections)
        /// When each connection's reply-awaited note was sent; nil when none is.
        var inFlight = [UInt64?](repeating: nil, count: connections)
        var replies = [NoteReplies](repeating: NoteReplies(), count: connections)
        var watched = clients.map { pollfd(fd: $0.socketDescriptor, events: Int16(POLLIN), revents: 0) }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var latencies: [Double] = []
        latencies.reserveCapacity(Int(Double(perSecond) * seconds) + connections)
        func due(_ connection: Int) -> UInt64 {
            start + UInt64(sent[connection]) * interval + UInt64(connection) * interval / UInt64(connections)
        }
        func send(_ connection: Int, at now: UInt64) throws {
            try MultiplexedLoad.send(calls[connection], on: clients[connection].socketDescriptor)
            inFlight[connection] = now
            sent[connection] += 1
        }
        while true {
            var now = DispatchTime.now().uptimeNanoseconds
            guard now < end else { break }
            var nextDue = end
            for connection in 0..<connections where inFlight[connection] == nil {
                if due(connection) <= now {
                    try send(connection, at: now)
                    now = DispatchTime.now().uptimeNanoseconds
                } else {
                    nextDue = min(nextDue, due(connection))
                }
            }
            let wait = Int(min(nextDue > now ? nextDue - now : 0, 100_000_000))
            let ready = jointops_poll_nanoseconds(&watched, UInt(watched.count), wait)
            guard ready >= 0 else {
                if errno == EINTR { continue }
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
            guard ready > 0 else { continue }
            for connection in watched.indices where watched[connection].revents != 0 {
                let count = read(watched[connection].fd, &buffer, buffer.count)
                guard count > 0 else { throw VarlinkClient.Failure.disconnected }
                let arrived = DispatchTime.now().uptimeNanoseconds
                // One note in flight a connection: at most one reply.
                guard try replies[connection].scan(buffer[0..<count]) > 0 else { continue }
                guard let began = inFlight[connection] else { throw BenchmarkFailure("a reply came with no note sent") }
                latencies.append(Double(arrived - began) / 1e6)
                inFlight[connection] = nil
                if due(connection) <= arrived, arrived < end { try send(connection, at: arrived) }
            }
        }
        // Replies still owed are read, so the next round starts with quiet connections.
        for connection in 0..<connections where inFlight[connection] != nil { _ = try clients[connection].receiveText() }
        return (latencies, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    /// Watchers following every change, all read by one thread; replies are counted, not
    /// decoded (the watchers' own work is not the daemon's).
    final class Watchers: Sendable {
        private let stopped = Atomic(false)
        private let received = Mutex((replies: 0, bytes: 0))
        private let lost = Mutex(0)
        private let clients: [VarlinkClient]
        private let running = DispatchGroup()

        init(socket: String, count: Int) throws {
            clients = try (0..<count).map { _ in try VarlinkClient(socketPath: socket) }
            for client in clients {
                try client.send(VarlinkCall(method: "io.jointops.Operations.Watch", parameters: [:], more: true))
            }
            running.enter()
            Thread { [self] in
                defer { running.leave() }
                var watched = clients.map { pollfd(fd: $0.socketDescriptor, events: Int16(POLLIN), revents: 0) }
                var open = clients.count
                while open > 0, !stopped.load(ordering: .relaxed) {
                    guard poll(&watched, nfds_t(watched.count), 100) > 0 else { continue }
                    var replies = 0
                    var bytes = 0
                    for index in watched.indices where watched[index].fd >= 0 && watched[index].revents != 0 {
                        guard let read = try? clients[index].skipReplies() else {
                            if !stopped.load(ordering: .relaxed) { lost.withLock { $0 += 1 } }
                            watched[index].fd = -1  // poll skips it
                            open -= 1
                            continue
                        }
                        replies += read.replies
                        bytes += read.bytes
                    }
                    received.withLock {
                        $0.replies += replies
                        $0.bytes += bytes
                    }
                }
            }.start()
            usleep(200_000)
            received.withLock { $0 = (0, 0) }
        }

        /// Replies and bytes per watcher per second since the last call.
        func receivedPerSecond(during seconds: Double) -> (replies: Double, bytes: Double) {
            received.withLock { count in
                defer { count = (0, 0) }
                let watcherSeconds = Double(clients.count) * seconds
                return (Double(count.replies) / watcherSeconds, Double(count.bytes) / watcherSeconds)
            }
        }

        /// Hangs up every watcher and waits for the thread; returns how many the daemon had
        /// disconnected before (too slow).
        func stop() -> Int {
            stopped.store(true, ordering: .relaxed)
            running.wait()
            for client in clients { shutdown(client.socketDescriptor, Int32(SHUT_RDWR)) }
            return lost.withLock { $0 }
        }
    }
}
