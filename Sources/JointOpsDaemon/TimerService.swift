import JointOpsCore
import Logging
import ServiceLifecycle

/// Fires due timers through the engine, in due order. Polls every 20 ms at most, so a
/// deadline fires within a few tens of milliseconds of its due time.
public struct TimerService: Service {
    let engine: OperationEngine
    let logger: Logger

    public init(engine: OperationEngine, logger: Logger) {
        self.engine = engine
        self.logger = logger
    }

    public func run() async throws {
        let scheduler = engine.timers
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = OperationEngine.now()
            for timer in await scheduler.takeDue(at: now) {
                await engine.fire(timer.key, of: timer.operation)
            }
            let next = await scheduler.nextDue()
            let wait = next.map { max(1, min(20, $0.since(OperationEngine.now()))) } ?? 20
            try? await Task.sleep(for: .milliseconds(wait))
        }
    }
}
