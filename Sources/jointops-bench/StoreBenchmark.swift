import Foundation
import GRDB
import JointOpsCore
import JointOpsStore
import Synchronization

/// `jointops-bench store`: durable transitions per second through the store's own API with
/// 64 concurrent writers at synchronous=FULL, against the ceiling of plain batched SQLite
/// inserts of the same rows; then recovery time and memory for 100,000 open operations.
enum StoreBenchmark {
    static func run(workflowsFolder: URL, writers: Int, seconds duration: Int, recoveryOperations: Int) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("jointops-bench-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = try String(contentsOf: workflowsFolder.appendingPathComponent("armed-response.yaml"), encoding: .utf8)
        guard let workflow = WorkflowLoader.load(source: source, file: "armed-response.yaml").workflow else {
            fatalError("armed-response.yaml is invalid")
        }

        let livePath = folder.appendingPathComponent("live.sqlite").path
        let store = try EventStore(options: StoreOptions(path: livePath, durability: .full))
        try store.register(workflow, source: source, at: Instant(milliseconds: 0))
        let committer = GroupCommitter(store: store)
        let clock = ContinuousClock()
        let started = clock.now
        let deadline = started + .seconds(duration)
        let numbers = OperationNumbers()
        let transitions = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<writers {
                group.addTask { try await drive(workflow, numbers: numbers, until: deadline, committer) }
            }
            return try await group.reduce(0, +)
        }
        let elapsed = seconds(clock.now - started)
        let statistics = committer.statistics
        let rate = Double(transitions) / elapsed
        print(
            String(
                format:
                    "store: %d writers, synchronous=FULL: %d durable transitions in %.2f s = %.0f/s (%d transactions, %.1f commands each); target ≥ 100,000/s: %@",
                writers, transitions, elapsed, rate, statistics.transactions,
                Double(statistics.changes) / Double(max(1, statistics.transactions)), rate >= 100_000 ? "met" : "NOT met"))
        print(
            String(
                format:
                    "store: the writer thread was inside transactions %.0f%% of the time, on a core %.0f%% (%.1f µs of CPU per transition)",
                Double(statistics.writingNanoseconds) / 1e9 / elapsed * 100, Double(statistics.writingCPUNanoseconds) / 1e9 / elapsed * 100,
                Double(statistics.writingCPUNanoseconds) / 1e3 / Double(max(1, transitions))))
        try store.close()

        let ceilingTime = try ceiling(
            copying: livePath, into: folder.appendingPathComponent("ceiling.sqlite").path, transactions: statistics.transactions)
        let ceilingRate = Double(transitions) / ceilingTime
        print(
            String(
                format:
                    "store: ceiling — plain SQLite inserts of the same rows in %d batched transactions: %.2f s = %.0f transitions/s; store/ceiling = %.2f (target ≥ 0.6: %@)",
                statistics.transactions, ceilingTime, ceilingRate, rate / ceilingRate, rate / ceilingRate >= 0.6 ? "met" : "NOT met"))

        try await recovery(
            workflow, source: source, operations: recoveryOperations, path: folder.appendingPathComponent("recovery.sqlite").path)
    }

    /// Operation ids as jointopsd gives them: numbered in the order operations start, so
    /// operations open at the same time are neighbours in the tables keyed by id, as in service.
    final class OperationNumbers: Sendable {
        private let last = Atomic(0)

        func next() -> String { String(format: "OP-20261129-%06d", last.add(1, ordering: .relaxed).newValue) }
    }

    /// One writer: armed-response operations driven from start through every branch step.
    private static func drive(
        _ workflow: Workflow, numbers: OperationNumbers, until deadline: ContinuousClock.Instant, _ committer: GroupCommitter
    ) async throws -> Int {
        var count = 0
        while ContinuousClock.now < deadline {
            var at = Instant(milliseconds: 1_795_910_400_000)
            var (state, start) = try OperationState.start(
                workflow, id: numbers.next(), region: "hexi",
                attributes: ["incident_type": "armed_robbery", "priority": "P1", "weapon_involved": "true"], at: at, actor: nil)
            try await committer.commit(EventStore.Change(state: state, before: nil, events: start.events))
            count += 1
            var commands: [Command] = [.fire(event: "assess"), .fire(event: "dispatch")]
            for definition in ["public_order", "swat", "traffic"] {
                let branch = workflow.branches[workflow.branch(named: definition)!]
                commands += EngineBenchmark.pathToCompletion(branch).map {
                    .advance(branch: definition, to: branch.steps[$0].name, outcome: nil)
                }
            }
            for command in commands {
                at = at + 1000
                let before = state
                let transition = try state.handle(command, at: at, actor: nil)
                try await committer.commit(EventStore.Change(state: state, before: before, events: transition.events))
                count += 1
            }
        }
        return count
    }

    /// Time to insert every row the store wrote (events and the projection) into an empty
    /// database of the same schema, in the same number of transactions.
    private static func ceiling(copying livePath: String, into path: String, transactions: Int) throws -> Double {
        _ = try EventStore(options: StoreOptions(path: path)).close()
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.prepareDatabase { try $0.execute(sql: "PRAGMA synchronous = FULL") }
        let target = try DatabasePool(path: path, configuration: configuration)
        // GRDB sets synchronous=NORMAL on the writer as it turns WAL on: FULL again, as the store does.
        try target.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
        let source = try DatabaseQueue(path: livePath)
        var tables: [(String, [Row])] = []
        for table in ["workflow_version", "operation", "branch", "step", "timer", "escalation", "event"] {
            tables.append((table, try source.read { try Row.fetchAll($0, sql: "SELECT * FROM \(table)") }))
        }
        try source.close()
        let rows = tables.flatMap { table, rows in rows.map { (table, $0) } }
        let perTransaction = max(1, rows.count / max(1, transactions))
        let clock = ContinuousClock()
        let start = clock.now
        var position = 0
        while position < rows.count {
            let batch = rows[position..<min(rows.count, position + perTransaction)]
            try target.write { db in
                for (table, row) in batch {
                    let columns = Array(row.columnNames)
                    let statement = try db.cachedStatement(
                        sql:
                            "INSERT INTO \(table) (\(columns.joined(separator: ","))) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ",")))"
                    )
                    try statement.execute(arguments: StatementArguments(row.databaseValues))
                }
            }
            position += perTransaction
        }
        let elapsed = seconds(clock.now - start)
        try target.close()
        return elapsed
    }

    /// Recovery of `operations` open operations (three branches each, armed timers).
    private static func recovery(_ workflow: Workflow, source: String, operations: Int, path: String) async throws {
        do {
            let store = try EventStore(options: StoreOptions(path: path, durability: .normal))
            try store.register(workflow, source: source, at: Instant(milliseconds: 0))
            var batch: [EventStore.Change] = []
            for index in 0..<operations {
                var (state, start) = try OperationState.start(
                    workflow, id: "OP-\(index)", region: "hexi",
                    attributes: ["incident_type": "armed_robbery", "priority": "P1", "weapon_involved": "true"],
                    at: Instant(milliseconds: 1_795_910_400_000 + Int64(index)), actor: nil)
                var events = start.events
                for event in ["assess", "dispatch"] {
                    events += try state.handle(.fire(event: event), at: state.lastChangeAt + 60_000, actor: nil).events
                }
                batch.append(EventStore.Change(state: state, before: nil, events: events))
                if batch.count == 2000 {
                    try store.commit(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
            try store.commit(batch)
            try store.close()
        }
        let residentBefore = residentBytes()
        let clock = ContinuousClock()
        let start = clock.now
        let store = try EventStore(options: StoreOptions(path: path))
        let recovered = try store.recover()
        let elapsed = seconds(clock.now - start)
        let perOperation = Double(residentBytes() - residentBefore) / Double(recovered.operations.count)
        print(
            String(
                format:
                    "store: recovery of %d open operations (%d branches, %d armed timers) to ready: %.2f s (target ≤ 2 s: %@); resident memory %.0f bytes per operation (target ≤ 4096: %@)",
                recovered.operations.count, recovered.operations.map(\.branches.count).reduce(0, +), recovered.timers.count, elapsed,
                elapsed <= 2 ? "met" : "NOT met", perOperation, perOperation <= 4096 ? "met" : "NOT met"))
        withExtendedLifetime(recovered) {}
        try store.close()
    }

    /// Resident set size of this process, from /proc/self/statm.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }
}
