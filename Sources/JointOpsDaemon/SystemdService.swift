import Logging
import ServiceLifecycle

/// Keeps systemd informed: `READY=1` once the socket listens (recovery is done by then),
/// `STATUS=` with what an administrator wants at a glance, and `WATCHDOG=1` at half the
/// watchdog interval — but only after the engine actor answered and no transaction is
/// stuck, so a wedged engine leads to a watchdog restart rather than a healthy ping.
public struct SystemdService: Service {
    let engine: OperationEngine
    let server: ControlSocketServer
    let logger: Logger

    public init(engine: OperationEngine, server: ControlSocketServer, logger: Logger) {
        self.engine = engine
        self.server = server
        self.logger = logger
    }

    /// The engine's status, which leads with a broken event log while the last check found one.
    private func currentStatus() async -> String { await engine.status() }

    public func run() async throws {
        var listening = server.listening.makeAsyncIterator()
        _ = await listening.next()
        let watchdog = Systemd.watchdogInterval
        Systemd.notify("READY=1\nSTATUS=\(await currentStatus())")
        let period = watchdog.map { $0 / 2 } ?? .seconds(5)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let pause = min(period, .seconds(5))
            // Shutdown interrupts the pause, so stopping never waits out a status period.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            guard !Task.isShuttingDownGracefully else { break }
            let status = await currentStatus()
            if let watchdog, await engine.storeStalled(longerThan: watchdog / 2) {
                logger.warning("a store transaction has been running for over \(watchdog / 2); not feeding the watchdog")
                Systemd.notify("STATUS=store stalled — \(status)")
                continue
            }
            Systemd.notify((watchdog == nil ? "" : "WATCHDOG=1\n") + "STATUS=\(status)")
        }
        Systemd.notify("STOPPING=1\nSTATUS=stopping: finishing commands in flight")
    }
}
