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
    /// Returns how many operations had timers fired. At most `maximumPasses` passes (a rung
    /// that repeats every few minutes after a long outage); the timer service fires what is left.
    public static func fireOverdue(_ engine: OperationEngine, maximumPasses: Int = 1000) async -> Int {
        let now = engine.clock()
        var fired: Set<String> = []
        for _ in 0..<maximumPasses {
            let operations = await fireDue(engine, at: now)
            guard !operations.isEmpty else { break }
            fired.formUnion(operations)
        }
        return fired.count
    }

    /// One pass: the timers due at `now`, one per operation (the rest armed again, for the
    /// next pass), different operations' at once (they share group commits, so a burst of
    /// due timers is not fired one commit after another). Firing one of an operation's
    /// timers fires all of its timers due by then, earliest first (`OperationState.handle`),
    /// the rungs they arm included, and cancels them here. Returns the operations whose
    /// timers were fired.
    @discardableResult
    static func fireDue(_ engine: OperationEngine, at now: Instant) async -> [String] {
        let scheduler = engine.timers
        let due = await scheduler.takeDue(at: now)
        guard !due.isEmpty else { return [] }
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
            var firing = 0
            for timer in first {
                if firing == firingAtOnce {
                    await group.next()
                    firing -= 1
                }
                group.addTask { await engine.fire(timer.key, of: timer.operation) }
                firing += 1
            }
        }
        return first.map(\.operation)
    }

    /// At most this many timers fire at once: enough to fill the group commits
    /// (`batch_max_size`, 512 by default), and no more held in memory (each firing holds its
    /// operation's state before and after, its events and their rows until it commits). A
    /// deadline-storm audit restarted jointopsd after an outage with 50,000 operations
    /// overdue: firing one timer of each at once took it to 2 GB resident.
    static let firingAtOnce = 1024
}
