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
        let clock = engine.clock
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await Self.fireDue(engine, at: clock())
            let next = await engine.timers.nextDue()
            let wait = next.map { max(1, min(20, $0.since(clock()))) } ?? 20
            try? await Task.sleep(for: .milliseconds(wait))
        }
    }

    /// Fires every timer already due when jointopsd starts, and every ladder rung those arm
    /// that is due too, before the control socket takes a command: an operator's command
    /// right after a restart (say, the step a missed deadline was waiting for) would
    /// otherwise be applied between two overdue rungs, and the rungs after it never fire.
    /// Returns how many fired. At most `maximumPasses` passes (a rung that repeats every few
    /// minutes after a long outage); the timer service fires what is left.
    public static func fireOverdue(_ engine: OperationEngine, maximumPasses: Int = 1000) async -> Int {
        let now = engine.clock()
        var fired = 0
        for _ in 0..<maximumPasses {
            let count = await fireDue(engine, at: now)
            guard count > 0 else { break }
            fired += count
        }
        return fired
    }

    /// One pass: the timers due at `now`, one per operation (the rest armed again, for the
    /// next pass), different operations' at once (they share group commits, so a burst of
    /// due timers is not fired one commit after another). One per operation, because a
    /// timer that fires may arm the next rung of its ladder, due before the operation's
    /// other due timers (after an outage all are past due at once): it then fires before
    /// them. Returns how many fired.
    @discardableResult
    static func fireDue(_ engine: OperationEngine, at now: Instant) async -> Int {
        let scheduler = engine.timers
        let due = await scheduler.takeDue(at: now)
        guard !due.isEmpty else { return 0 }
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
            for timer in first { group.addTask { await engine.fire(timer.key, of: timer.operation) } }
        }
        return first.count
    }
}
