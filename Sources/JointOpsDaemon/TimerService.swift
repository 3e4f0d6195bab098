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
                // One timer per operation per pass, the rest armed again: a timer that fires may
                // arm the next rung of its ladder, due before the operation's other due timers
                // (after an outage all are past due at once), and it then fires before them.
                var first: [(operation: String, key: TimerKey)] = []
                var seen: Set<String> = []
                for timer in due {
                    if seen.insert(timer.operation).inserted {
                        first.append((timer.operation, timer.key))
                    } else {
                        await scheduler.arm(operation: timer.operation, key: timer.key, due: timer.due)
                    }
                }
                await withTaskGroup(of: Void.self) { group in
                    for timer in first { group.addTask { await self.engine.fire(timer.key, of: timer.operation) } }
                }
            }
            let next = await scheduler.nextDue()
            let wait = next.map { max(1, min(20, $0.since(clock()))) } ?? 20
            try? await Task.sleep(for: .milliseconds(wait))
        }
    }
}
