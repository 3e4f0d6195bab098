import CSQLiteConfig
import CWALWrites
import GRDB
import GRDBSQLite
public import JointOpsCore
import Synchronization

/// The durable store: an append-only, hash-chained event log and the current-state
/// projection, both in one SQLite file, changed together in one transaction.
///
/// Its API speaks Core types (`OperationState`, `RecordedEvent`, `Workflow`), never rows.
public final class EventStore: Sendable {
    public let options: StoreOptions
    /// What opening did to an older store's schema, for the log ("upgraded from 0002 … to
    /// 0009 …"); nil for a new store or one already current.
    public let migrated: String?
    let pool: DatabasePool
    /// Checkpoints the WAL away from the writer's thread (see `Checkpointer`).
    let checkpointer: Checkpointer
    /// The chain head the last commit left (see `ChainHeadCache`).
    private let chainHead = ChainHeadCache()
    /// Compiled workflow versions: a stored version never changes, so compile each once.
    private let compiled = Mutex<[WorkflowKey: Workflow]>([:])
    /// The database's lock file, held while the store is open (nil: `options.exclusive` off).
    private let lock: StoreLock?
    /// What the last attempt to empty the WAL after a full disk did (see `reclaimWAL`).
    let lastReclaim = Mutex<WALReclaim?>(nil)

    /// SQLite's process-wide settings, made before its first connection opens (after that
    /// SQLite refuses them and keeps its safe defaults): no mutex per connection, which GRDB's
    /// serialized access makes useless, and no global count of its memory. About 8 % less
    /// of the writer's time per change (`jointops-bench commit-cost`, three alternating runs).
    private static let sqliteConfigured: Bool = {
        let multithread = jointops_sqlite3_config_multithread()
        let memstatus = jointops_sqlite3_config_no_memstatus()
        // After the settings above (registering a VFS initializes SQLite, after which they
        // can no longer be made), before the first store opens its database.
        let vfs = jointops_wal_writes_install()
        return multithread == SQLITE_OK && memstatus == SQLITE_OK && vfs == SQLITE_OK
    }()

    /// A change to commit: one command's events and the operation's state after them.
    public struct Change: Sendable {
        /// The operation after the command.
        public var state: OperationState
        /// The operation before the command, or nil when the command started it.
        public var before: OperationState?
        public var events: [RecordedEvent]
        /// A client's request id, the method and the reply it got: a retry gets the same reply.
        public var request: ClientRequest?
        /// Roster units the command changed (assigned, released, moved along their lifecycle),
        /// as they stand after it.
        public var units: [Unit]
        /// The events' payloads and canonical bytes, built ahead by `GroupCommitter` (nil:
        /// the writer builds them).
        var prepared: [EventWriter.Prepared]?
        /// For a change that ends its operation: its history replayed beforehand, away from
        /// the writer (`EventStore.replayedHistory`); nil: the writer replays the log itself.
        public var history: ReplayedHistory?
        /// The report facts built from `history` by `GroupCommitter` (nil: the writer builds them).
        var facts: ReportFactsWriter.Prepared?

        public init(
            state: OperationState, before: OperationState?, events: [RecordedEvent], request: ClientRequest? = nil, units: [Unit] = [],
            history: ReplayedHistory? = nil
        ) {
            self.state = state
            self.before = before
            self.events = events
            self.request = request
            self.units = units
            self.history = history
        }
    }

    /// A client request remembered for idempotent retries.
    public struct ClientRequest: Sendable, Hashable {
        public var id: String
        public var method: String
        public var reply: String
        /// `fingerprint(of:)` the call's parameters: a retry must repeat them exactly (nil for
        /// requests remembered before fingerprints were kept).
        public var fingerprint: String?

        public init(id: String, method: String, reply: String, fingerprint: String? = nil) {
            self.id = id
            self.method = method
            self.reply = reply
            self.fingerprint = fingerprint
        }

        /// The SHA-256 of a call's parameters in canonical form, as hex: the same parameters
        /// give the same fingerprint whatever their order or spacing on the wire.
        public static func fingerprint(of parameters: JSONValue) -> String {
            EventHash.contentHash(parameters.canonical)
        }
    }

    /// Takes the database's lock (`StoreLock`), opens the store (creating it if needed),
    /// checks the file (`PRAGMA quick_check`) and migrates it.
    public init(options: StoreOptions) throws(StoreError) {
        _ = Self.sqliteConfigured
        self.options = options
        // First: a second jointopsd on this file stops here, before it reads or writes anything.
        let lock = options.exclusive ? try StoreLock(database: options.path) : nil
        self.lock = lock
        let synchronous = options.durability == .full ? "FULL" : "NORMAL"
        checkpointer = Checkpointer(path: options.path, synchronous: synchronous, backgroundFrames: options.checkpointPages)
        var configuration = Configuration()
        configuration.journalMode = .wal
        // GRDB's default (user-initiated) makes Dispatch try a negative nice that the jointops
        // user may not set, and log the failure for every worker thread it starts.
        configuration.qos = .default
        configuration.busyMode = .timeout(
            Double(options.busyTimeout.components.seconds) + Double(options.busyTimeout.components.attoseconds) / 1e18)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        do {
            pool = try DatabasePool(path: options.path, configuration: configuration)
            let checkpointer = checkpointer
            try pool.writeWithoutTransaction { db in
                // GRDB sets synchronous=NORMAL on the writer when it turns WAL on, after
                // prepareDatabase ran: set ours again, or FULL is silently NORMAL.
                try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
                // Read it back: never acknowledge commands with less durability than asked for.
                let inEffect = try Int.fetchOne(db, sql: "PRAGMA synchronous")
                guard inEffect == (options.durability == .full ? 2 : 1) else {
                    throw StoreError(
                        .io,
                        "SQLite would not set synchronous=\(synchronous) on \(options.path) (it reports \(inEffect.map(String.init) ?? "nothing")); jointopsd does not run with less durability than configured"
                    )
                }
                if let connection = db.sqliteConnection { checkpointer.install(on: connection) }
            }
            // Checked before it is migrated: a damaged file is kept as it was found.
            let check = try pool.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
            guard check == ["ok"] else {
                throw StoreError(
                    .corrupt,
                    "\(options.path) failed its integrity check (\(check.prefix(3).joined(separator: "; "))). Stop jointopsd, keep the file for analysis, and restore the latest backup (docs/storage.md, \"Restore\")."
                )
            }
            let migrator = StoreSchema.migrator
            let applied = try pool.read { db in try migrator.appliedIdentifiers(db) }
            try migrator.migrate(pool)
            let new = migrator.migrations.filter { !applied.contains($0) }
            migrated =
                applied.isEmpty || new.isEmpty
                ? nil
                : "the store's schema was upgraded from \(applied.sorted().last!) to \(new.last!) (\(new.count) migration\(new.count == 1 ? "" : "s"): \(new.joined(separator: "; ")))"
            // A long read (a backup) keeps the WAL from restarting, so it grows past its
            // bound meanwhile (113 -> 314 MB under verifies in a scale audit); with the limit,
            // the first commit after it restarts cuts it back to twice its working size (the
            // bound it keeps under load: a limit of the working size itself would cut and
            // regrow the file at many restarts, each regrowth a size change to sync).
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA journal_size_limit = \(2 * (try walWorkingBytes(db)))")
            }
            if options.durability == .full, options.preallocatesWAL { preallocateWAL() }
            // After the WAL's zeros, which want four times their size free.
            pool.asyncWriteWithoutTransaction { [self] _ in takeReserve() }
        } catch {
            lock?.release()
            if error is RowDecodingError {
                // A row of the schema history (GRDB's grdb_migrations) that SQLite serves
                // but that holds nonsense, damage quick_check did not see: a damaged file
                // all the same, not a raw decoding error for the administrator to puzzle over.
                throw StoreError(
                    .corrupt,
                    "opening the store failed: \(options.path) is damaged (a row of its schema history cannot be read: \(error)). Stop jointopsd, keep the file for analysis, and restore the latest backup (docs/storage.md, \"Restore\")."
                )
            }
            let failure = StoreError.from(error, path: options.path, doing: "opening the store")
            // SQLite says "cannot open" or "read-only" for a file on a read-only file system.
            if failure.kind == .readOnly || failure.kind == .cannotOpen, StoreError.isOnReadOnlyFileSystem(options.path) {
                throw StoreError.readOnlyFileSystem(options.path)
            }
            // Or for one it may not use (a backup restored with cp as root): whose it is, and the chown.
            if failure.kind == .readOnly || failure.kind == .cannotOpen, let denied = StoreError.permissionProblem(options.path) {
                throw denied
            }
            throw failure
        }
    }

    /// Whether coalesced WAL writes were tried on the writer yet.
    private let walWritesStarted = Atomic(false)
    /// How often the writer replayed an ending operation's log inside a transaction, its
    /// change having come without the history (`Change.history`): tests check the engine's
    /// closes and cancels bring it.
    let factsReplayedInTransactions = Atomic(0)

    /// Turns coalesced WAL writes on for the writer, at its first commit (its WAL is open
    /// then, and it is at FULL): SQLite then syncs the WAL at every commit, before it
    /// publishes the frames (see Sources/CWALWrites).
    private func startCoalescingWALWrites(_ db: Database) {
        guard options.durability == .full, options.coalescesWALWrites, !walWritesStarted.load(ordering: .relaxed),
            let connection = db.sqliteConnection
        else { return }
        walWritesStarted.store(true, ordering: .relaxed)
        _ = jointops_wal_writes_start(connection)
    }

    /// The writes the writer made to its WAL while coalescing them, and the writes they
    /// became; nil when it does not coalesce them.
    var walWriteCounts: (taken: Int, made: Int)? {
        pool.writeWithoutTransaction { db in
            var taken: Int64 = 0
            var made: Int64 = 0
            guard let connection = db.sqliteConnection, jointops_wal_writes_counts(connection, &taken, &made) == SQLITE_OK
            else { return nil }
            return (Int(taken), Int(made))
        }
    }

    /// Writes the WAL out to its working size (`WALPreallocation`). Queued on the writer, so
    /// it delays the first commit (by about 0.1 s), not the open or the recovery that follows
    /// it. It holds SQLite's write lock (an empty IMMEDIATE transaction), so no other
    /// process that has the database open appends frames where the zeros go.
    func preallocateWAL() {
        let path = options.path + "-wal"
        pool.asyncWriteWithoutTransaction { [self] db in
            try? db.inTransaction(.immediate) {
                WALPreallocation.extend(path, to: try walWorkingBytes(db))
                return .commit
            }
        }
    }

    /// The size of the WAL under load, the one `preallocateWAL` gives it: `writerFrames` pages.
    public var walWorkingBytes: Int {
        get throws { try pool.read { db in try walWorkingBytes(db) } }
    }

    private func walWorkingBytes(_ db: Database) throws -> Int {
        let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
        return WALPreallocation.bytes(frames: checkpointer.writerFrames, pageSize: pageSize)
    }

    /// The writer connection's `PRAGMA synchronous` (2 = FULL, 1 = NORMAL): what commits
    /// really wait for.
    var writerSynchronous: Int {
        get throws { try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 } }
    }

    /// Rows the writer connection has inserted, updated or deleted since the store opened
    /// (SQLite's `total_changes`): the benchmark compares it with its ceiling's inserts.
    public var rowsWritten: Int64 {
        pool.writeWithoutTransaction { db in sqlite3_total_changes64(db.sqliteConnection) }
    }

    // MARK: Workflow versions

    /// Records a workflow version's source. The same id and version with different content
    /// is refused: running operations rely on a version never changing. So is a version lower
    /// than one stored: versions only go up, and an older definition put back is a new one.
    public func register(_ workflow: Workflow, source: String, at: Instant) throws(StoreError) {
        try register([(workflow, source)], at: at)
    }

    /// Records several workflow versions in one transaction: all of them, or none.
    public func register(_ workflows: [(Workflow, String)], at: Instant) throws(StoreError) {
        do {
            try pool.write { db in
                for (workflow, source) in workflows {
                    let highest = try Int.fetchOne(
                        db, sql: "SELECT MAX(version) FROM workflow_version WHERE workflow = ?", arguments: [workflow.id])
                    if let highest, workflow.version < highest {
                        var conflict = StoreError(
                            .conflict,
                            "workflow '\(workflow.id)' version \(workflow.version) is lower than version \(highest), which is already stored; raise 'version' in the file above \(highest): versions only go up, so putting back an older definition makes a new version"
                        )
                        conflict.workflow = workflow.id
                        throw conflict
                    }
                    let hash = EventHash.contentHash(source)
                    let existing = try String.fetchOne(
                        db, sql: "SELECT content_hash FROM workflow_version WHERE workflow = ? AND version = ?",
                        arguments: [workflow.id, workflow.version])
                    if let existing {
                        guard existing == hash else {
                            var conflict = StoreError(
                                .conflict,
                                "workflow '\(workflow.id)' version \(workflow.version) is already stored with different content; bump 'version' in the file so running operations keep the version they started with"
                            )
                            conflict.workflow = workflow.id
                            throw conflict
                        }
                        continue
                    }
                    try db.execute(
                        sql: "INSERT INTO workflow_version (workflow, version, content_hash, source, loaded_at) VALUES (?, ?, ?, ?, ?)",
                        arguments: [workflow.id, workflow.version, hash, source, at.milliseconds])
                }
            }
        } catch {
            let names = workflows.map { "'\($0.0.id)' v\($0.0.version)" }.joined(separator: ", ")
            throw StoreError.from(error, path: options.path, doing: "registering workflow \(names)")
        }
    }

    /// The highest stored version of workflow `id`, compiled, and its source; nil if none is stored.
    public func latestWorkflow(_ id: String) throws(StoreError) -> (workflow: Workflow, source: String)? {
        do {
            let row = try pool.read { db in
                try Row.fetchOne(
                    db, sql: "SELECT workflow, version, source FROM workflow_version WHERE workflow = ? ORDER BY version DESC LIMIT 1",
                    arguments: [id])
            }
            guard let row else { return nil }
            return (try compiled(row), row["source"])
        } catch {
            throw StoreError.from(error, path: options.path, doing: "reading workflow '\(id)'", writing: false)
        }
    }

    /// Every stored workflow version, compiled.
    public func workflows() throws(StoreError) -> [Workflow] {
        do {
            let rows = try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT workflow, version, source FROM workflow_version ORDER BY workflow, version")
            }
            return try rows.map(compiled)
        } catch {
            throw StoreError.from(error, path: options.path, doing: "loading workflow versions", writing: false)
        }
    }

    /// A `workflow_version` row (workflow, version, source) compiled, once per version.
    private func compiled(_ row: Row) throws -> Workflow {
        let key = WorkflowKey(row["workflow"], row["version"])
        if let workflow = compiled.withLock({ $0[key] }) { return workflow }
        let source: String = row["source"]
        guard
            let workflow = WorkflowLoader.load(
                source: source, file: "stored:\(row["workflow"] as String)@\(row["version"] as Int)", appliesLaterLimits: false
            ).workflow
        else {
            throw StoreError(
                .invalidData,
                "stored workflow '\(row["workflow"] as String)' v\(row["version"] as Int) no longer validates with this jointops; run the version that stored it, or migrate its operations"
            )
        }
        compiled.withLock { $0[key] = workflow }
        return workflow
    }

    // MARK: Committing

    /// Where a commit's events went in the log: the global sequence of each change's first
    /// event, in the order of the changes, and of each roster change's first event with its
    /// first position in the `@units` stream. (For a change or roster change without
    /// events, the sequence its first event would have had.)
    public struct Placement: Sendable, Hashable {
        public struct Roster: Sendable, Hashable {
            public var sequence: Int64
            public var streamSequence: Int64
        }

        public var changes: [Int64] = []
        public var rosters: [Roster] = []
    }

    /// Appends the changes' events to the chain and updates the projection, all in one
    /// transaction: either everything is durable when this returns, or nothing is.
    @discardableResult
    public func commit(_ changes: [Change], rosters: [RosterChange] = []) throws(StoreError) -> Placement {
        try commit(changes, rosters: rosters, more: { nil })
    }

    /// More changes for an open transaction (see `commit(_:rosters:more:)`).
    public struct Handover {
        /// The changes, in groups as the callers gave them: the group committer hands over
        /// each command's own array, since copying every change into one array (two
        /// operation states each) showed in the writer's profile.
        public var groups: [[Change]]
        public var rosters: [RosterChange]

        public init(changes: [Change], rosters: [RosterChange]) {
            self.init(groups: [changes], rosters: rosters)
        }

        public init(groups: [[Change]], rosters: [RosterChange]) {
            self.groups = groups
            self.rosters = rosters
        }

        var count: Int { groups.reduce(0) { $0 + $1.count } }
    }

    /// "3 operation changes and 1 roster change", for an error about a batch.
    static func describe(changes: Int, rosters: Int) -> String {
        func counted(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
        switch (changes, rosters) {
        case (_, 0): return counted(changes, "operation change")
        case (0, _): return counted(rosters, "roster change")
        default: return counted(changes, "operation change") + " and " + counted(rosters, "roster change")
        }
    }

    /// Like `commit(_:rosters:)`, but the transaction stays open while `more` hands over
    /// further changes, each written as it comes; it commits when `more` returns nil. The
    /// group committer writes the first commands of a batch while the rest are still on
    /// their way, instead of waiting idle for them. Each handover's rosters come before its
    /// changes in the log; the placement lists everything in the order handed over.
    @discardableResult
    public func commit(_ changes: [Change], rosters: [RosterChange], more: () -> Handover?) throws(StoreError) -> Placement {
        try commit(Handover(changes: changes, rosters: rosters), more: more)
    }

    /// Like `commit(_:rosters:more:)`, the first changes given as a handover.
    @discardableResult
    public func commit(_ first: Handover, more: () -> Handover?) throws(StoreError) -> Placement {
        var count = first.count
        var rosters = first.rosters.count
        /// The operation whose change is being written, to name it if the database refuses it.
        var writing: String?
        do {
            let committed = try pool.write { db in
                startCoalescingWALWrites(db)
                var (head, dataVersion) = try chainHead.take(db)
                var placement = Placement()
                let statements = WriteStatements(db)
                var handover: Handover? = first
                while let next = handover {
                    for roster in next.rosters {
                        let sequence = head.sequence + 1
                        let streamSequence = try UnitWriter.append(roster, head: &head, db, statements)
                        placement.rosters.append(Placement.Roster(sequence: sequence, streamSequence: streamSequence))
                        try UnitWriter.write(roster.units, db)
                    }
                    for group in next.groups {
                        // By index, each change passed borrowed: `for change in group` copied
                        // every change (two operation states each) and destroyed it again.
                        for index in group.indices {
                            writing = group[index].state.id
                            placement.changes.append(head.sequence + 1)
                            try write(group[index], head: &head, db, statements)
                            writing = nil
                        }
                    }
                    handover = more()
                    count += handover?.count ?? 0
                    rosters += handover?.rosters.count ?? 0
                }
                return (head, dataVersion, placement)
            }
            chainHead.keep(committed.0, dataVersion: committed.1)
            return committed.2
        } catch {
            var failure = StoreError.from(error, path: options.path, doing: "committing \(Self.describe(changes: count, rosters: rosters))")
            if failure.kind == .conflict || failure.kind == .invalidData, let writing {
                failure.operation = writing
                failure.message += " The change it refused was \(writing)'s."
            }
            // Nothing of the batch is on disk, and it is not retried. The WAL is what fills a
            // small disk: empty it, so the next commands have room.
            if failure.kind == .diskFull {
                let reclaim = reclaimWAL()
                failure.reclaim = reclaim
                failure.message += " \(reclaim.message)"
            }
            throw failure
        }
    }

    /// One change: its events on the chain, the projection, the report facts of an ending,
    /// and the request it answers.
    private func write(_ change: Change, head: inout ChainHead, _ db: Database, _ statements: WriteStatements) throws {
        try EventWriter.append(change, head: &head, db, statements)
        try ProjectionWriter.write(change, db, statements)
        if try ReportFactsWriter.write(change, db) { factsReplayedInTransactions.add(1, ordering: .relaxed) }
        try change.request?.insert(stream: change.state.id, at: change.state.lastChangeAt, db)
    }

    /// The number of events in the log.
    public func eventCount() throws(StoreError) -> Int {
        do {
            return try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM event") ?? 0 }
        } catch {
            throw StoreError.from(error, path: options.path, doing: "counting events", writing: false)
        }
    }

    /// Closes the store, leaving everything in the database file: the WAL is checkpointed
    /// and truncated first. It waits at most 100 ms for readers of other processes to leave
    /// the WAL, not the whole busy timeout; on a full disk it gives up its reserve
    /// (`SpaceReserve`) so that the database file can grow, and tries once more. The reserve
    /// is removed either way: a closed store is its database file alone.
    ///
    /// If the WAL still cannot be emptied the store closes all the same, then throws a
    /// `StoreError` saying why (`.diskFull`, `.locked`, `.io`): the WAL is kept, and the next
    /// open replays it — nothing is lost, but the daemon should say so.
    public func close() throws(StoreError) {
        checkpointer.close()
        var failure = checkpointOnClose()
        let reserve = SpaceReserve.release(reservePath)
        if reserve > 0, let error = failure as? DatabaseError, error.resultCode == .SQLITE_FULL { failure = checkpointOnClose() }
        do { try pool.close() } catch { throw StoreError.from(error, path: options.path, doing: "closing the store") }
        lock?.release()
        // The last connection to close checkpoints too: it may have managed it.
        let walBytes = DiskSpace.fileBytes(options.path + "-wal")
        if let failure, walBytes > 0 { throw closeFailure(failure, walBytes: walBytes) }
    }

    /// The checkpoint that empties the WAL when the store closes; the error if it failed.
    private func checkpointOnClose() -> (any Error)? {
        let restore = busyTimeoutMilliseconds
        do {
            try pool.writeWithoutTransaction { db in
                sqlite3_busy_timeout(db.sqliteConnection, 100)
                defer { sqlite3_busy_timeout(db.sqliteConnection, restore) }
                try db.checkpoint(.truncate)
            }
            return nil
        } catch {
            return error
        }
    }
}
