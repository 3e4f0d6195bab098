import Foundation
import JointOpsCore
import JointOpsStore
import Logging
import ServiceLifecycle

/// Opens the store, loads the workflows, recovers open operations, and runs the timer and
/// control-socket services until SIGTERM/SIGINT, then shuts down gracefully.
public enum Daemon {
    public static func run(_ configuration: DaemonConfiguration, logger: Logger) async throws {
        guard configuration.socketPath.utf8.count < 108 else {
            throw DaemonError(
                "the socket path \(configuration.socketPath) is \(configuration.socketPath.utf8.count) bytes long; a Unix socket path may have at most 107: choose a shorter --socket"
            )
        }
        try FileManager.default.createDirectory(atPath: configuration.stateDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            atPath: (configuration.socketPath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let catalog = try WorkflowCatalog.load(from: configuration.workflowsDirectory, logger: logger)
        let store = try EventStore(options: StoreOptions(path: configuration.databasePath, durability: configuration.durability))
        let now = OperationEngine.now()
        for id in catalog.current.keys.sorted() {
            try store.register(catalog.current[id]!, source: catalog.sources[id]!, at: now)
        }
        let recovery = try store.recover()
        logger.info(
            "recovered \(recovery.operations.count) open operations, \(recovery.timers.count) armed timers (\(recovery.overdue(at: now).count) overdue)"
        )
        let engine = OperationEngine(store: store, catalog: catalog, recovered: recovery, logger: logger)
        await engine.armRecoveredTimers(recovery)
        let server = ControlSocketServer(configuration: configuration, engine: engine, logger: logger)
        let group = ServiceGroup(
            configuration: .init(
                services: [
                    .init(service: TimerService(engine: engine, logger: logger)),
                    .init(service: server),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
        try? store.close()
        try? FileManager.default.removeItem(atPath: configuration.socketPath)
        logger.info("stopped")
    }
}
