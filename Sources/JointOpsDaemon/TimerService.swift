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
        let clock = engine.clock
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let now = clock()
            // Different operations' timers fire concurrently (they share group commits, so a
            // burst of due timers is not fired one commit after another); one operation's
            // fire in due order.
            let due = await scheduler.takeDue(at: now)
            if !due.isEmpty {
                var byOperation: [String: [TimerKey]] = [:]
                var order: [String] = []
                for timer in due {
                    if byOperation[timer.operation] == nil { order.append(timer.operation) }
                    byOperation[timer.operation, default: []].append(timer.key)
                }
                await withTaskGroup(of: Void.self) { group in
                    for operation in order {
                        let keys = byOperation[operation]!
                        group.addTask { for key in keys { await self.engine.fire(key, of: operation) } }
                    }
                }
            }
            let next = await scheduler.nextDue()
            let wait = next.map { max(1, min(20, $0.since(clock()))) } ?? 20
            try? await Task.sleep(for: .milliseconds(wait))
        }
    }
}
