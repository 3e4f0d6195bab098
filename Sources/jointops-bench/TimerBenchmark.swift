import Foundation
import GRDB
import JointOpsCore
import JointOpsDaemon
import JointOpsProtocol
import Synchronization

/// `jointops-bench timers`: (1) the timer structure holding 1,000,000 armed deadlines —
/// resident memory (target ≤ 200 MiB) and arm / fire rates; (2) the real jointopsd under
/// command load while deadlines come due: how late each fired (the lateness every
/// `deadline_missed` event records; target ≤ 100 ms).
enum TimerBenchmark {
    static func run(root: URL, quick: Bool) async throws {
        try await structure(count: quick ? 100_000 : 1_000_000)
        try firing(root: root, seconds: quick ? 4 : 10)
    }

    static func residentBytes() -> Int {
        let fields = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8))?.split(separator: " ") ?? []
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }

    static func structure(count: Int) async throws {
        var random = SplitMix64(seed: 7)
        let base = Int64(Date().timeIntervalSince1970 * 1000) + 86_400_000
        // Ids as the daemon generates them (16 bytes: too long for Swift's inline strings).
        let ids = (0..<count).map { "OP-20261129-" + String(format: "%06d", $0) }
        let dues = (0..<count).map { _ in Instant(milliseconds: base + Int64(random.next() % 86_400_000)) }
        let scheduler = TimerScheduler()
        let before = residentBytes()
        let clock = ContinuousClock()
        var started = clock.now
        for index in 0..<count {
            await scheduler.arm(operation: ids[index], key: TimerKey(kind: .deadline, index: index % 5, instance: -1), due: dues[index])
        }
        let armSeconds = seconds(clock.now - started)
        let resident = Double(residentBytes() - before) / 1_048_576
        print(
            String(
                format: "timers: %d armed deadlines: %.0f MiB resident for the timer structure (target ≤ 200 MiB): %@; armed at %.0f/s",
                count, resident, resident <= 200 ? "met" : "NOT met", Double(count) / armSeconds))
        started = clock.now
        let fired = await scheduler.takeDue(at: Instant(milliseconds: base + 86_400_000)).count
        print(
            String(
                format: "timers: all %d taken due in order in %.2f s (%.0f/s)", fired, seconds(clock.now - started),
                Double(fired) / seconds(clock.now - started)))
    }

    /// jointopsd with armed-response's assessment due 2 s after the start; 64 connections
    /// send notes as fast as the daemon answers while one more starts 100 operations a second.
    static func firing(root: URL, seconds duration: Double) throws {
        let daemon = try BenchDaemon(name: "timers")
        defer { daemon.remove() }
        let workflows = daemon.folder.appendingPathComponent("workflows")
        try FileManager.default.createDirectory(at: workflows, withIntermediateDirectories: true)
        let original = try String(contentsOf: root.appendingPathComponent("Workflows/armed-response.yaml"), encoding: .utf8)
        try original.replacingOccurrences(of: "from: started\n    within: 2m", with: "from: started\n    within: 2s")
            .write(to: workflows.appendingPathComponent("armed-response.yaml"), atomically: true, encoding: .utf8)
        let socket = daemon.socket
        try daemon.start(["--workflows", workflows.path, "--log-level", "error", "--config", "/dev/null"])
        func start(_ id: String) throws {
            let reply = try VarlinkClient(socketPath: socket).call(
                "io.jointops.Operations.Start",
                [
                    "workflow": .string("armed-response"), "region": .string("hexi"), "id": .string(id),
                    "attributes": .object(["incident_type": .string("armed_robbery"), "priority": .string("P1")]),
                ])
            precondition(reply.error == nil, "\(reply)")
        }
        for index in 0..<64 { try start("L-\(index)") }
        let commands = Mutex(0)
        let began = Date()
        try DaemonBenchmark.parallel(65) { connection in
            let client = try VarlinkClient(socketPath: socket)
            var sent = 0
            if connection == 64 {
                // The starter: 100 operations a second, each due 2 s later.
                while Date().timeIntervalSince(began) < duration - 2.5 {
                    let due = began.addingTimeInterval(Double(sent) / 100).timeIntervalSinceNow
                    if due > 0 { usleep(useconds_t(due * 1e6)) }
                    let reply = try client.call(
                        "io.jointops.Operations.Start",
                        [
                            "workflow": .string("armed-response"), "region": .string("hexi"), "id": .string("T-\(sent)"),
                            "attributes": .object(["incident_type": .string("armed_robbery"), "priority": .string("P1")]),
                        ])
                    precondition(reply.error == nil, "\(reply)")
                    sent += 1
                }
            } else {
                while Date().timeIntervalSince(began) < duration {
                    _ = try client.call("io.jointops.Operations.Note", ["id": .string("L-\(connection)"), "text": .string("load")])
                    sent += 1
                }
            }
            commands.withLock { $0 += sent }
        }
        let rate = Double(commands.withLock { $0 }) / Date().timeIntervalSince(began)
        usleep(300_000)
        daemon.stop()
        let database = try DatabaseQueue(path: daemon.database)
        let lateness = try database.read { db in
            try String.fetchAll(
                db,
                sql: "SELECT payload FROM event WHERE kind = 'deadline_missed' AND operation_id LIKE 'T-%' AND payload LIKE '%assessment%'")
        }.compactMap { try? JSONParser.parse($0)["lateness_ms"]?.intValue }.sorted()
        let started = try database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM operation WHERE id LIKE 'T-%'") ?? 0 }
        guard !lateness.isEmpty else { return print("timers: no deadline fired — nothing to measure") }
        let p50 = lateness[lateness.count / 2]
        let p99 = lateness[min(lateness.count - 1, lateness.count * 99 / 100)]
        print(
            String(
                format:
                    "timers: under %.0f commands/s, %d of %d deadlines fired; lateness p50 %d ms, p99 %d ms, max %d ms (target ≤ 100 ms): %@",
                rate, lateness.count, started, p50, p99, lateness.last!, lateness.last! <= 100 ? "met" : "NOT met"))
    }
}
