import Foundation
import JointOpsCore
import JointOpsProtocol
import Synchronization

/// `jointops-bench daemon`: the real jointopsd (started from the same build folder) driven
/// over its socket: round-trip latency at an offered rate, sustained durable commands per
/// second with 64 connections at synchronous=FULL, and the slowdown while 100 watchers follow.
enum DaemonBenchmark {
    static func run(root: URL, quick: Bool) throws {
        let daemon = try BenchDaemon(name: "daemon")
        defer { daemon.remove() }
        let socket = daemon.socket
        let config = daemon.folder.appendingPathComponent("jointopsd.yaml")
        try (ProcessInfo.processInfo.environment["JOINTOPS_BENCH_DAEMON_CONFIG"] ?? "").write(to: config, atomically: true, encoding: .utf8)
        try daemon.start([
            "--config", config.path, "--workflows", root.appendingPathComponent("Workflows").path, "--log-level", "warning",
        ])
        let operations = 64
        for index in 0..<operations {
            let reply = try VarlinkClient(socketPath: socket).call(
                "io.jointops.Operations.Start",
                [
                    "workflow": .string("armed-response"), "region": .string("hexi"), "id": .string("B-\(index)"),
                    "attributes": .object(["incident_type": .string("armed_robbery"), "priority": .string("P1")]),
                ])
            precondition(reply.error == nil, "\(reply)")
        }
        let seconds = quick ? 2.0 : 5.0

        // 1. Latency at an offered rate: 8 connections, 625 commands/s each, their sends
        // spread evenly over time.
        let offered = 5000
        let latency = try offeredLoad(socket: socket, perSecond: offered, connections: 8, seconds: seconds)
        print(
            String(
                format:
                    "daemon: %d commands/s offered over 8 connections: %.0f answered/s, round trip p50 %.2f ms (target ≤ 0.2), p99 %.2f ms (target ≤ 2)",
                offered, latency.rate, latency.p50, latency.p99))
        let floor = try DurableRoundTripFloor.measure(in: daemon.folder, roundTrips: quick ? 1000 : 5000)
        print(
            String(
                format:
                    "daemon: floor on this disk — a Unix-socket round trip around one 4 KiB write and fdatasync, no SQLite: p50 %.2f ms, p99 %.2f ms",
                floor.p50, floor.p99))

        // 2. Sustained durable commands per second with 64 connections.
        let rate = try throughput(socket: socket, connections: 64, seconds: seconds)
        print(String(format: "daemon: 64 connections, synchronous=FULL: %.0f durable commands/s (target ≥ 30,000)", rate))

        // 3. The issue's case: commands offered at 10,000 events/s (one event each) with no
        // watcher, then with 100 watchers following everything; the slowdown is that of the
        // commands' round trip (p50). Then the harsher case: at full load, how many fewer
        // commands the daemon answers while the watchers follow.
        let eventsOffered = 10_000
        let alone = try offeredLoad(socket: socket, perSecond: eventsOffered, connections: 64, seconds: seconds)
        let watchers = try Watchers(socket: socket, count: 100)
        let followed = try offeredLoad(socket: socket, perSecond: eventsOffered, connections: 64, seconds: seconds)
        let perWatcher = watchers.repliesPerSecond(during: seconds)
        let cutOffFollowing = watchers.disconnected
        let watched = try throughput(socket: socket, connections: 64, seconds: seconds)
        let cutOffAtFullLoad = watchers.disconnected - cutOffFollowing
        watchers.stop()
        print(
            String(
                format:
                    "daemon: %d events/s offered over 64 connections: alone %.0f answered/s, p50 %.2f ms, p99 %.2f ms; with 100 watchers (each receiving %.0f replies/s) %.0f answered/s, p50 %.2f ms, p99 %.2f ms: slowdown %.0f%% (target ≤ 10%%)",
                eventsOffered, alone.rate, alone.p50, alone.p99, perWatcher, followed.rate, followed.p50, followed.p99,
                (followed.p50 / alone.p50 - 1) * 100))
        print(
            String(
                format: "daemon: at full load with the 100 watchers: %.0f commands/s, %.1f%% fewer than without",
                watched, (1 - watched / rate) * 100))
        if cutOffFollowing + cutOffAtFullLoad > 0 {
            print(
                "daemon: WARNING: \(cutOffFollowing) watchers were disconnected as too slow at 10,000 events/s and \(cutOffAtFullLoad) more at full load: the figures above do not count their cost"
            )
        } else {
            print("daemon: every watcher kept up (none was disconnected)")
        }
    }

    /// Round trips of notes sent on a fixed schedule (`perSecond` in all, spread over the
    /// connections); a connection that falls behind sends at once.
    static func offeredLoad(
        socket: String, perSecond: Int, connections: Int, seconds: Double
    ) throws -> (rate: Double, p50: Double, p99: Double) {
        let latencies = Mutex<[Double]>([])
        let start = Date()
        try parallel(connections) { connection in
            let note = try Note(socket: socket, operation: "B-\(connection % 64)", text: "offered load")
            let interval = Double(connections) / Double(perSecond)
            var sent = 0
            var mine: [Double] = []
            while Date().timeIntervalSince(start) < seconds {
                let wait = start.addingTimeInterval(Double(sent) * interval + Double(connection) * interval / Double(connections))
                    .timeIntervalSinceNow
                if wait > 0 { usleep(useconds_t(wait * 1e6)) }
                let began = Date()
                try note.send()
                mine.append(Date().timeIntervalSince(began) * 1000)
                sent += 1
            }
            latencies.withLock { $0 += mine }
        }
        let elapsed = Date().timeIntervalSince(start)
        let sorted = latencies.withLock { $0 }.sorted()
        return (Double(sorted.count) / elapsed, sorted[sorted.count / 2], sorted[min(sorted.count - 1, sorted.count * 99 / 100)])
    }

    /// Watchers following every change, on threads of their own; replies are counted, not
    /// decoded (the watchers' own work is not the daemon's).
    final class Watchers: Sendable {
        private let stopped = Mutex(false)
        private let received = Mutex(0)
        private let lost = Mutex(0)
        private let clients: [VarlinkClient]

        init(socket: String, count: Int) throws {
            clients = try (0..<count).map { _ in try VarlinkClient(socketPath: socket) }
            for client in clients {
                try client.send(VarlinkCall(method: "io.jointops.Operations.Watch", parameters: [:], more: true))
                Thread { [self] in
                    while !stopped.withLock({ $0 }) {
                        guard let replies = try? client.skipReplies() else {
                            if !stopped.withLock({ $0 }) { lost.withLock { $0 += 1 } }
                            return
                        }
                        received.withLock { $0 += replies }
                    }
                }.start()
            }
            usleep(200_000)
            received.withLock { $0 = 0 }
        }

        /// Replies per watcher per second since the last call.
        func repliesPerSecond(during seconds: Double) -> Double {
            received.withLock { count in
                defer { count = 0 }
                return Double(count) / Double(clients.count) / seconds
            }
        }

        /// Watchers the daemon disconnected (too slow) before `stop`.
        var disconnected: Int { lost.withLock { $0 } }

        func stop() { stopped.withLock { $0 = true } }
    }

    static func throughput(socket: String, connections: Int, seconds: Double) throws -> Double {
        try MultiplexedLoad.notesPerSecond(socket: socket, connections: connections, seconds: seconds)
    }

    /// A load generator's note: the call encoded once, the reply checked (no error) but
    /// not decoded, so the generator takes as little of the machine as it can.
    struct Note {
        let client: VarlinkClient
        let call: [UInt8]

        init(socket: String, operation: String, text: String) throws {
            client = try VarlinkClient(socketPath: socket)
            call = Self.call(operation: operation, text: text)
        }

        /// The call as sent: canonical JSON and its NUL.
        static func call(operation: String, text: String) -> [UInt8] {
            Array(
                VarlinkCall(method: "io.jointops.Operations.Note", parameters: ["id": .string(operation), "text": .string(text)]).json
                    .utf8) + [0]
        }

        func send() throws {
            try client.sendRaw(call)
            let reply = try client.receiveText()
            precondition(reply.hasPrefix(#"{"parameters":"#), reply)
        }
    }

    /// Runs `body` on `count` threads and waits for all of them.
    static func parallel(_ count: Int, _ body: @escaping @Sendable (Int) throws -> Void) throws {
        let group = DispatchGroup()
        let failure = Mutex<(any Error)?>(nil)
        for index in 0..<count {
            group.enter()
            Thread {
                do { try body(index) } catch { failure.withLock { $0 = error } }
                group.leave()
            }.start()
        }
        group.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }
}
