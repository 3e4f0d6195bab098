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
        // JOINTOPS_BENCH_DAEMON_CONFIG: jointopsd.yaml text for trying a setting (say
        // `durability: normal`); the figures then say they were not taken with the defaults.
        let configText = ProcessInfo.processInfo.environment["JOINTOPS_BENCH_DAEMON_CONFIG"] ?? ""
        try configText.write(to: config, atomically: true, encoding: .utf8)
        let settings = configText.isEmpty ? "synchronous=FULL" : "jointopsd.yaml \"\(configText)\" (not the defaults)"
        try daemon.start([
            "--config", config.path, "--workflows", root.appendingPathComponent("Workflows").path, "--log-level", "warning",
        ])
        if !configText.isEmpty { print("daemon: NOTE jointopsd runs with \(settings): every figure below is for that setting") }
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
        var latency = LatencySample()
        let before = try CommitTimes.read(socket: socket)
        latency.add(try MultiplexedClients.offeredLoad(socket: socket, perSecond: offered, connections: 8, seconds: seconds))
        let commits = try CommitTimes.read(socket: socket).since(before)
        print(
            String(
                format:
                    "daemon: %d commands/s offered over 8 connections: %.0f answered/s, round trip p50 %.2f ms (target ≤ 0.2), p99 %.2f ms (target ≤ 2)",
                offered, latency.rate, latency.p50, latency.p99))
        print(
            String(
                format:
                    "daemon: of that, by jointopsd's metrics (means): %.2f ms waiting for the writer or for company, %.2f ms of the writer's work on the transaction (%.1f commands each, fsync included); the rest is the socket, the engine and the hops between threads",
                commits.meanWait, commits.meanTransaction, commits.commandsPerTransaction))
        let floor = try DurableRoundTripFloor.measure(in: daemon.folder, roundTrips: quick ? 1000 : 5000)
        print(
            String(
                format:
                    "daemon: floor on this disk — a Unix-socket round trip around one 4 KiB write and fdatasync, no SQLite: p50 %.2f ms, p99 %.2f ms",
                floor.p50, floor.p99))

        // 2. Sustained durable commands per second with 64 connections.
        let rate = try throughput(socket: socket, connections: 64, seconds: seconds)
        print(String(format: "daemon: 64 connections, %@: %.0f durable commands/s (target ≥ 30,000)", settings, rate))

        // 3. The case: commands offered at 10,000 events/s (one event each) with no
        // watcher, then with 100 watchers following everything, in alternating rounds, so
        // drift of a shared machine falls on both sides. The slowdown is that of the
        // commands' round trip: the median over the rounds of each round's p50 against the
        // round alone before it (pairs of neighbouring rounds are the fairest comparison on a
        // machine whose speed wanders by the second), and the p50s of all round trips pooled.
        // jointopsd's own time for the commands (its metrics) tells whether the slowdown is
        // inside the daemon or in the machine's scheduling of clients and daemon alike. Then
        // the harsher case: at full load, how many fewer commands the daemon answers while the
        // watchers follow.
        let eventsOffered = 10_000
        let rounds = quick ? 4 : 10
        let roundSeconds = 1.0
        var alone = LatencySample()
        var followed = LatencySample()
        var aloneInside = CommitTimes()
        var followedInside = CommitTimes()
        var perWatcher: [(replies: Double, bytes: Double)] = []
        var cutOff = 0
        for _ in 0..<rounds {
            var before = try CommitTimes.read(socket: socket)
            alone.add(try MultiplexedClients.offeredLoad(socket: socket, perSecond: eventsOffered, connections: 64, seconds: roundSeconds))
            aloneInside = aloneInside.adding(try CommitTimes.read(socket: socket).since(before))
            let watchers = try MultiplexedClients.Watchers(socket: socket, count: 100)
            before = try CommitTimes.read(socket: socket)
            followed.add(
                try MultiplexedClients.offeredLoad(socket: socket, perSecond: eventsOffered, connections: 64, seconds: roundSeconds))
            followedInside = followedInside.adding(try CommitTimes.read(socket: socket).since(before))
            perWatcher.append(watchers.receivedPerSecond(during: roundSeconds))
            cutOff += watchers.stop()
        }
        let ratios = zip(followed.medians, alone.medians).map { $0 / $1 }.sorted()
        // With an even count, the mean of the middle two.
        let medianRatio = (ratios[(ratios.count - 1) / 2] + ratios[ratios.count / 2]) / 2
        let watchers = try MultiplexedClients.Watchers(socket: socket, count: 100)
        let watched = try throughput(socket: socket, connections: 64, seconds: seconds)
        cutOff += watchers.stop()
        print(
            String(
                format:
                    "daemon: %d events/s offered over 64 connections, %d alternating rounds of %.1f s: alone %.0f answered/s, p50 %.2f ms (rounds %@), p99 %.2f ms; with 100 watchers (each receiving %.0f replies/s, %.1f MB/s) %.0f answered/s, p50 %.2f ms (rounds %@), p99 %.2f ms",
                eventsOffered, rounds, roundSeconds, alone.rate, alone.p50, alone.roundMedians, alone.p99,
                perWatcher.map(\.replies).reduce(0, +) / Double(rounds), perWatcher.map(\.bytes).reduce(0, +) / Double(rounds) / 1e6,
                followed.rate, followed.p50, followed.roundMedians, followed.p99))
        print(
            String(
                format:
                    "daemon: slowdown with the 100 watchers: %.0f%% (median of the rounds' p50 against the round before; rounds from %.0f%% to %.0f%%), %.0f%% of the pooled p50s (target ≤ 10%%); inside jointopsd a Note took %.3f ms alone, %.3f ms with the watchers (%+.0f%%)",
                (medianRatio - 1) * 100, (ratios.first! - 1) * 100, (ratios.last! - 1) * 100, (followed.p50 / alone.p50 - 1) * 100,
                aloneInside.meanNote, followedInside.meanNote, (followedInside.meanNote / aloneInside.meanNote - 1) * 100))
        print(
            String(
                format:
                    "daemon: of a Note's time inside jointopsd (means): alone %.2f ms waiting for the writer or for company and %.2f ms of the writer's work on the transaction (%.1f commands each); with the watchers %.2f and %.2f ms (%.1f each)",
                aloneInside.meanWait, aloneInside.meanTransaction, aloneInside.commandsPerTransaction, followedInside.meanWait,
                followedInside.meanTransaction, followedInside.commandsPerTransaction))
        print(
            String(
                format: "daemon: at full load with the 100 watchers: %.0f commands/s, %.1f%% fewer than without",
                watched, (1 - watched / rate) * 100))
        if cutOff > 0 {
            print("daemon: WARNING: \(cutOff) watchers were disconnected as too slow: the figures above do not count their cost")
        } else {
            print("daemon: every watcher kept up (none was disconnected)")
        }
    }

    /// Round trips pooled over several rounds of `offeredLoad`.
    struct LatencySample {
        private var latencies: [Double] = []
        private var elapsed = 0.0
        /// Each round's p50.
        private(set) var medians: [Double] = []

        mutating func add(_ round: (latencies: [Double], elapsed: Double)) {
            latencies += round.latencies
            elapsed += round.elapsed
            medians.append(round.latencies.sorted()[round.latencies.count / 2])
        }

        var rate: Double { Double(latencies.count) / elapsed }
        var p50: Double { latencies.sorted()[latencies.count / 2] }
        var p99: Double { latencies.sorted()[min(latencies.count - 1, latencies.count * 99 / 100)] }
        /// Each round's p50, to show the spread.
        var roundMedians: String { medians.map { String(format: "%.2f", $0) }.joined(separator: " ") }
    }

    static func throughput(socket: String, connections: Int, seconds: Double) throws -> Double {
        try MultiplexedLoad.notesPerSecond(socket: socket, connections: connections, seconds: seconds)
    }

    /// A load generator's note: the call encoded once; replies are checked (no error) but
    /// not decoded, so the generator takes as little of the machine as it can.
    enum Note {
        /// The call as sent: canonical JSON and its NUL.
        static func call(operation: String, text: String) -> [UInt8] {
            Array(
                VarlinkCall(method: "io.jointops.Operations.Note", parameters: ["id": .string(operation), "text": .string(text)]).json
                    .utf8) + [0]
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
