import Foundation
import GRDB
import GRDBSQLite
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
        let rowsWritten = store.rowsWritten
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

        let ceiling = try ceiling(
            copying: livePath, into: folder.appendingPathComponent("ceiling.sqlite").path, transactions: statistics.transactions)
        let ceilingRate = Double(transitions) / ceiling.seconds
        print(
            String(
                format:
                    "store: ceiling — plain SQLite inserts of the same rows in %d batched transactions: %.2f s = %.0f transitions/s; store/ceiling = %.2f (target ≥ 0.6: %@)",
                statistics.transactions, ceiling.seconds, ceilingRate, rate / ceilingRate, rate / ceilingRate >= 0.6 ? "met" : "NOT met"))
        print(
            String(
                format:
                    "store: rows written per transition: the store %.1f (inserts, updates and deletes, the projection kept current), the ceiling %.1f (inserts of the rows as they ended)",
                Double(rowsWritten) / Double(max(1, transitions)), Double(ceiling.rows) / Double(max(1, transitions))))

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
    /// database of the same schema and constraints, in the same number of transactions, at
    /// synchronous=FULL: prepared statements bound and stepped through SQLite's C API, the
    /// rows read into memory beforehand, so nothing but SQLite and the disk is timed.
    private static func ceiling(copying livePath: String, into path: String, transactions: Int) throws -> (seconds: Double, rows: Int) {
        // The schema, and the WAL size the store would give its own WAL.
        var options = StoreOptions(path: path)
        options.preallocatesWAL = false  // closing empties it anyway
        let schema = try EventStore(options: options)
        let walBytes = try schema.walWorkingBytes
        try schema.close()
        let source = try DatabaseQueue(path: livePath)
        var rows: [(table: Int, values: [DatabaseValue])] = []
        var inserts: [String] = []
        for table in ["workflow_version", "operation", "branch", "step", "timer", "escalation", "event"] {
            let fetched = try source.read { try Row.fetchAll($0, sql: "SELECT * FROM \(table)") }
            guard let first = fetched.first else { continue }
            let columns = Array(first.columnNames)
            inserts.append(
                "INSERT INTO \(table) (\(columns.joined(separator: ","))) VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ",")))"
            )
            rows += fetched.map { (inserts.count - 1, Array($0.databaseValues)) }
        }
        try source.close()
        let target = try PlainSQLite(path: path)
        // The store's WAL starts at its working size (`WALPreallocation`): so does the ceiling's.
        WALPreallocation.extend(path + "-wal", to: walBytes)
        let statements = try inserts.map { try target.prepare($0) }
        defer { statements.forEach { sqlite3_finalize($0) } }
        let perTransaction = max(1, rows.count / max(1, transactions))
        let clock = ContinuousClock()
        let start = clock.now
        var position = 0
        while position < rows.count {
            try target.execute("BEGIN")
            for (table, values) in rows[position..<min(rows.count, position + perTransaction)] {
                try target.insert(values, with: statements[table])
            }
            try target.execute("COMMIT")
            position += perTransaction
        }
        return (seconds(clock.now - start), rows.count)
    }

    /// A connection through SQLite's C API, configured as the store's writer: WAL,
    /// synchronous=FULL, foreign keys checked.
    private final class PlainSQLite {
        private var connection: OpaquePointer?
        private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

        init(path: String) throws {
            guard sqlite3_open_v2(path, &connection, SQLITE_OPEN_READWRITE, nil) == SQLITE_OK else { throw failure("open \(path)") }
            for pragma in ["journal_mode = WAL", "synchronous = FULL", "foreign_keys = ON"] { try execute("PRAGMA \(pragma)") }
        }

        deinit { sqlite3_close_v2(connection) }

        func execute(_ sql: String) throws {
            guard sqlite3_exec(connection, sql, nil, nil, nil) == SQLITE_OK else { throw failure(sql) }
        }

        func prepare(_ sql: String) throws -> OpaquePointer? {
            var statement: OpaquePointer?
            guard sqlite3_prepare_v3(connection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil) == SQLITE_OK else {
                throw failure(sql)
            }
            return statement
        }

        func insert(_ values: [DatabaseValue], with statement: OpaquePointer?) throws {
            sqlite3_reset(statement)
            for (offset, value) in values.enumerated() {
                let index = Int32(offset + 1)
                switch value.storage {
                case .null: sqlite3_bind_null(statement, index)
                case .int64(let number): sqlite3_bind_int64(statement, index, number)
                case .double(let number): sqlite3_bind_double(statement, index, number)
                case .string(let text): sqlite3_bind_text(statement, index, text, -1, Self.transient)
                case .blob(let data):
                    _ = data.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), Self.transient) }
                }
            }
            guard sqlite3_step(statement) == SQLITE_DONE else { throw failure("insert") }
        }

        private func failure(_ doing: String) -> any Error {
            StoreError(.io, "ceiling: \(doing): \(String(cString: sqlite3_errmsg(connection)))")
        }
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
        // In a fresh process: this one's heap, grown and freed by the phases before, takes
        // the recovered operations without growing (the figure read 6 to 320 bytes per
        // operation depending on what the phases before had freed).
        let recovery = Process()
        recovery.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        recovery.arguments = ["recover-store", path]
        fflush(nil)  // its lines come after ours
        try recovery.run()
        recovery.waitUntilExit()
        guard recovery.terminationStatus == 0 else { throw BenchmarkFailure("recover-store exited with \(recovery.terminationStatus)") }
    }

    /// `jointops-bench recover-store PATH`: opens the store at `path` and recovers it, in a
    /// process that has done nothing else, and prints the time and resident memory it took.
    static func recoverInFreshProcess(path: String) throws {
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
                    "store: recovery of %d open operations (%d branches, %d armed timers) to ready: %.2f s (target ≤ 2 s: %@); resident memory %.0f bytes per operation, the growth of a fresh process (target ≤ 4096: %@)",
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
