import Foundation
import JointOpsCore
import JointOpsStore
import Logging
import ServiceLifecycle

/// Opens the store, loads the workflows, recovers open operations, and runs the timer and
/// control-socket services until SIGTERM/SIGINT, then shuts down gracefully.
public enum Daemon {
    public static func run(_ configuration: DaemonConfiguration, logger: Logger) async throws {
        do {
            try await serve(configuration, logger: logger)
        } catch {
            Systemd.notify(failureNotification(for: error))
            throw error
        }
    }

    /// What systemd is told when the start fails: `STATUS=` with the reason's first line (a
    /// line break would end the status; the journal has the rest), and `ERRNO=` only when a
    /// system call's error is the cause (a `POSIXError`). Any other failure — a damaged or
    /// root-owned database, a full disk, an unreadable folder — has no errno of its own:
    /// `ERRNO=5` for each made `systemctl status` say "Error: 5 (Input/output error)".
    static func failureNotification(for error: any Error) -> String {
        let first = "\(error)".split(separator: "\n").first.map(String.init) ?? ""
        let status = "STATUS=failed to start: \(first)"
        guard let posix = error as? POSIXError else { return status }
        return "ERRNO=\(posix.code.rawValue)\n\(status)"
    }

    /// Makes the folder `path` (and its parents) unless it exists; "" is the working folder.
    /// `stateDirectory`: the folder is the state directory, which the unit's sandbox lets
    /// jointopsd write in only where its StateDirectory= or a ReadWritePaths= says.
    private static func makeFolder(_ path: String, for setting: String, stateDirectory: Bool = false) throws(DaemonError) {
        guard !path.isEmpty else { return }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            if stateDirectory, DaemonError.isReadOnlyFileSystem(error), let sandbox = sandboxed(path, making: true) {
                throw DaemonError.configuration(sandbox)
            }
            throw DaemonError.configuration(
                "cannot make the folder \(path): \(DaemonError.reason(error, path: path)) — make it yourself for jointopsd's user, or set \(setting) to a folder that user may write in"
            )
        }
        // The folder's owner may write in it, so EROFS is a read-only mount (a sandbox's, here).
        if stateDirectory, access(path, W_OK) != 0, errno == EROFS, let sandbox = sandboxed(path, making: false) {
            throw DaemonError.configuration(sandbox)
        }
    }

    /// Under systemd, a state directory outside the unit's StateDirectory= (`$STATE_DIRECTORY`,
    /// /var/lib/jointops as installed) is read-only for jointopsd unless a ReadWritePaths=
    /// drop-in opens it (ProtectSystem=strict). For a `path` that was found read-only (EROFS),
    /// or could not be made (`making`) for that reason, says so and what to do; nil when
    /// jointopsd does not run under systemd or `path` is in the unit's StateDirectory= (a
    /// file system really mounted read-only: the store says so).
    static func sandboxed(
        _ path: String, making: Bool, service: Bool = Systemd.isService,
        unitStateDirectories: [String] = Systemd.stateDirectories
    ) -> String? {
        guard service else { return nil }
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        guard !unitStateDirectories.contains(where: { absolute == $0 || absolute.hasPrefix($0 + "/") }) else { return nil }
        var existing = absolute
        if making {
            while existing != "/", !FileManager.default.fileExists(atPath: existing) {
                existing = (existing as NSString).deletingLastPathComponent
            }
        }
        let user = StoreError.name(ofUser: geteuid())
        let group = StoreError.name(ofGroup: getegid())
        let unit = unitStateDirectories.joined(separator: ", ")
        let dropIn =
            "a drop-in, systemctl edit jointopsd: [Service] ReadWritePaths=\(absolute) (docs/configuration.md, state_directory), then: systemctl restart jointopsd"
        if making {
            return
                "cannot make the state directory \(absolute): the unit's sandbox (ProtectSystem=strict) makes \(existing) read-only for jointopsd, which may write only in its StateDirectory, \(unit) — make the folder yourself (install -d -o \(user) -g \(group) -m 0750 \(absolute)), open it to jointopsd with \(dropIn)"
        }
        return
            "the state directory \(absolute) is read-only for jointopsd: the unit's sandbox (ProtectSystem=strict) lets it write only in its StateDirectory, \(unit) — open the folder to it with \(dropIn) (with that drop-in in place already, the file system itself is read-only: remount it read-write)"
    }

    /// Runs a step of the start that reads the store. A fault there that starting again cannot
    /// mend — a damaged file, files jointopsd may not read or write, a read-only file system —
    /// stops the start as a configuration error (exit 78, which the unit does not restart on:
    /// a restart loop, every RestartSec= for as long as nobody mends it, the unit having no
    /// start limit).
    /// Others (a full disk, a lock another process holds, an I/O error) stay as they are: a
    /// restart may well find them gone.
    static func atStart<T>(_ step: () throws -> T) throws -> T {
        do {
            return try step()
        } catch let error as StoreError where [.corrupt, .readOnly, .cannotOpen].contains(error.kind) {
            throw DaemonError.configuration(error.message)
        }
    }

    /// How many of the last events are verified at every start (about a millisecond).
    static let eventsVerifiedAtStart = 1000

    /// Verifies the last events of the log, which `PRAGMA quick_check` does not look into,
    /// and logs the head for an administrator to compare with a backup or an earlier start.
    ///
    /// A broken tail does not stop the daemon: the operations run from the projection (which
    /// passed quick_check), and a command center without its board is worse off than one
    /// whose audit record needs repair; what is appended links to the stored head, so the
    /// break stays where it is for `jointopsctl admin verify` to find. It is said at critical
    /// level, kept in systemd's status (`OperationEngine.eventLogBrokenAt`) and in a metric;
    /// returns the first broken event's sequence.
    ///
    /// The head is logged at notice level whatever `log_level` says (`noticeAtAnyLevel`):
    /// docs/storage.md tells administrators to compare it with the records they keep off the
    /// machine, and it is one line a start.
    static func checkEventLogTail(_ store: EventStore, logger: Logger) throws(StoreError) -> Int64? {
        let tail = try store.verifyTail(last: eventsVerifiedAtStart)
        guard let broken = tail.firstBreak else {
            logger.noticeAtAnyLevel("event log head: sequence \(tail.headSequence), hash \(tail.headHash)")
            return nil
        }
        logger.critical(
            "the event log is broken at event \(broken.sequence): \(broken.reason). jointopsd runs on, but the record from that event on cannot be trusted, and the disk may be damaging data unnoticed: take a backup now (jointopsctl admin backup PATH), see the whole extent with jointopsctl admin verify, and plan a restore of the latest intact backup (docs/storage.md, \"Restore\")",
            metadata: ["message_id": "\(JournalMessageID.eventLogBroken)"])
        return broken.sequence
    }

    /// Leads systemd's status while the last check of the event log (at start, or
    /// `jointopsctl admin verify`) found it broken at event `sequence`.
    static func eventLogBrokenStatus(at sequence: Int64) -> String {
        "EVENT LOG BROKEN at event \(sequence) (see the journal)"
    }

    private static func serve(_ configuration: DaemonConfiguration, logger: Logger) async throws {
        // jointopsd checked the file's socket and --socket already; this is for settings made otherwise.
        if let mistake = DaemonConfiguration.socketPathMistake(configuration.socketPath, setting: "socket") {
            throw DaemonError.configuration(mistake)
        }
        // Checked first, so a listener that may not start stops nothing else from happening.
        let metricsAddress = try configuration.metricsListen.map { text throws(DaemonError) in
            do { return try MetricsListenAddress(parsing: text) } catch { throw DaemonError.configuration("\(error)") }
        }
        // Before anything is made (a state directory given by mistake, say): a daemon already
        // serving this socket stays the one its operators reach.
        if Systemd.listeningDescriptor(named: "control") == nil {
            try ControlSocketServer.refuseIfListening(configuration.socketPath)
        }
        // The metrics listener is bound before anything else is made or opened, and so long
        // before READY=1: a port that cannot be had stops the start here, as a configuration
        // error, instead of taking the daemon down after systemd was told it runs.
        let metrics = DaemonMetrics()
        let metricsServer: MetricsHTTPServer?
        if let metricsAddress {
            metricsServer = try await MetricsHTTPServer.bind(address: metricsAddress, metrics: metrics, logger: logger)
        } else {
            metricsServer = nil
        }
        do {
            try await startAndServe(configuration, metrics: metrics, metricsServer: metricsServer, logger: logger)
        } catch {
            metricsServer?.close()
            throw error
        }
    }

    /// "1.25 s", for the journal.
    static func seconds(_ duration: Duration) -> String {
        String(format: "%.2f s", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }

    /// The rest of the start (folders, workflows, store, recovery), then the services until stopped.
    private static func startAndServe(
        _ configuration: DaemonConfiguration, metrics: DaemonMetrics, metricsServer: MetricsHTTPServer?, logger: Logger
    ) async throws {
        try makeFolder(configuration.stateDirectory, for: "state_directory (--state-directory)", stateDirectory: true)
        try makeFolder((configuration.socketPath as NSString).deletingLastPathComponent, for: "socket (--socket)")
        Systemd.notify("STATUS=loading workflows")
        var catalog = try WorkflowCatalog.load(from: configuration.workflowsDirectory, logger: logger)
        // Checking, migrating and recovering a large store can outlast the start timeout.
        let moreStartTime = StartTimeoutExtension(status: "opening the store and recovering open operations")
        defer { moreStartTime.end() }  // a start that fails
        let clock = ContinuousClock()
        let opening = clock.now
        let store = try atStart {
            try EventStore(
                options: StoreOptions(
                    path: configuration.databasePath, durability: configuration.durability,
                    batchMaxWait: .microseconds(configuration.commitLingerMicroseconds)))
        }
        let opened = clock.now - opening
        if let warning = store.spaceWarning { logger.warning("\(warning)") }
        if let migrated = store.migrated { logger.notice("\(migrated)") }
        let tailBrokenAt = try atStart { try checkEventLogTail(store, logger: logger) }
        let now = WallClock.now()
        for id in catalog.current.keys.sorted() {
            do {
                try store.register(catalog.current[id]!, source: catalog.sources[id]!, at: now)
            } catch {
                guard error.kind == .conflict else { throw error }
                // Changed without a new version number, or given a lower one: the version stored
                // last runs, as it did before (a reload refuses the file alike), rather than
                // the workflow vanishing at a restart.
                let problem = catalog.problem(error)
                if let stored = try atStart({ () throws(StoreError) in try store.latestWorkflow(id) }) {
                    catalog.keepStored(stored.workflow, source: stored.source)
                    logger.error(
                        "\(problem); jointopsd runs the stored version \(stored.workflow.version) of '\(id)', the last one loaded, until the file has a higher version and is reloaded (jointopsctl admin reload)",
                        metadata: ["message_id": "\(JournalMessageID.workflowsSkipped)"])
                } else {
                    logger.error(
                        "\(problem); workflow '\(id)' is not loaded", metadata: ["message_id": "\(JournalMessageID.workflowsSkipped)"])
                    catalog.skip(id)
                }
            }
        }
        guard !catalog.current.isEmpty else {
            throw DaemonError.configuration("no workflow in \(configuration.workflowsDirectory) could be loaded; fix the errors above")
        }
        let roster = try UnitsSetup.roster(configuration, store: store, logger: logger)
        if let tree = roster?.tree {
            for problem in catalog.regionProblems(tree) {
                logger.error("\(problem); the workflow is not loaded", metadata: ["message_id": "\(JournalMessageID.workflowsSkipped)"])
                if let id = catalog.current.first(where: { problem.location.file == catalog.paths[$0.key] })?.key {
                    catalog.skip(id)
                }
            }
            guard !catalog.current.isEmpty else {
                throw DaemonError.configuration(
                    "no workflow in \(configuration.workflowsDirectory) names only known regions; fix the errors above")
            }
        }
        if catalog.skipped.isEmpty {
            logger.info("\(catalog.summary) from \(configuration.workflowsDirectory)")
        } else {
            logger.error(
                "\(catalog.summary) from \(configuration.workflowsDirectory); the errors above say why — fix them and reload (jointopsctl admin reload)",
                metadata: ["message_id": "\(JournalMessageID.workflowsSkipped)"])
        }
        let recovering = clock.now
        let recovery = try atStart { try store.recover() }
        let recovered = clock.now - recovering
        if let tree = roster?.tree {
            // As for a unit's home: a jurisdiction edited while jointopsd was stopped must keep
            // the regions open operations are in (a reload refuses the same).
            let orphaned = UnitsSetup.regionProblems(of: recovery.operations, in: tree, lacking: configuration.regionsFile) {
                "restore the region in the jurisdiction file; to drop it, move the operation out first (\($0)), then reload"
            }
            guard orphaned.isEmpty else { throw DaemonError.configuration(orphaned.joined(separator: "\n")) }
        }
        logger.info(
            "store \(configuration.databasePath): commits synchronous=\(configuration.durability == .full ? "FULL (synced before acknowledged)" : "NORMAL (not synced; a power cut can lose the last commands)")"
        )
        logger.info(
            "store opened, checked (quick_check) and migrated in \(Self.seconds(opened)); recovered \(recovery.operations.count) open operation\(recovery.operations.count == 1 ? "" : "s"), \(recovery.timers.count) armed timer\(recovery.timers.count == 1 ? "" : "s") (\(recovery.overdue(at: now).count) overdue) in \(Self.seconds(recovered))"
        )
        metrics.eventLogTail(intact: tailBrokenAt == nil)
        let engine = OperationEngine(
            store: store, catalog: catalog, recovered: recovery, metrics: metrics, logger: logger, roster: roster,
            regionsPath: roster == nil ? nil : configuration.regionsFile, eventLogBrokenAt: tailBrokenAt)
        await engine.armRecoveredTimers(recovery)
        if !recovery.overdue(at: now).isEmpty {
            Systemd.notify("STATUS=firing the timers that came due while jointopsd was stopped")
            let fired = await TimerService.fireOverdue(engine)
            logger.notice(
                "fired the overdue timers of \(fired) operation\(fired == 1 ? "" : "s") (each one's in due order, and the ladder rungs they armed) before taking commands"
            )
        }
        // Branches that were awaiting units get any that are free now.
        await engine.fillAwaiting()
        moreStartTime.end()  // READY comes next: from here systemd's start timeout is not ours to extend
        let server = ControlSocketServer(configuration: configuration, engine: engine, logger: logger)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: TimerService(engine: engine, logger: logger)),
            .init(
                service: RequestRetentionService(
                    engine: engine, retentionHours: configuration.requestRetentionHours, logger: logger)),
        ]
        // Services shut down in reverse order: the metrics listener after the control socket.
        if let metricsServer { services.append(.init(service: metricsServer)) }
        services += [
            .init(service: server),
            .init(service: SystemdService(engine: engine, server: server, logger: logger)),
            .init(service: ReloadOnHangup(engine: engine, workflowsDirectory: configuration.workflowsDirectory, logger: logger)),
        ]
        let group = ServiceGroup(
            configuration: .init(
                services: services,
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
        do { try store.close() } catch {
            // Closed all the same; what is left in the WAL is replayed at the next start.
            logger.error("\(error)", metadata: ["message_id": "\(JournalMessageID.storageFault)"])
        }
        logger.info("stopped")
    }
}
