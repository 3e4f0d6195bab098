import JointOpsCore
import Testing

@testable import JointOpsDaemon

/// The timer heap deletes lazily; what it keeps must not grow with timers long cancelled.
@Suite struct TimerSchedulerTests {
    static func key(_ index: Int) -> TimerKey { TimerKey(kind: .deadline, index: index, instance: -1) }

    /// Reproducer (a scale audit): a deadline met long before it was due stayed in the heap
    /// until its due time — weeks for some workflows — so jointopsd's memory grew with every
    /// operation that ended (44 -> 93 MB over 310,000 ended operations).
    @Test func cancelledTimersDoNotPileUpInTheHeap() async {
        let scheduler = TimerScheduler()
        let later = Instant(milliseconds: 1_800_000_000_000)
        for operation in 0..<20_000 {
            await scheduler.arm(operation: "OP-\(operation)", key: Self.key(0), due: later + Int64(operation))
            await scheduler.arm(operation: "OP-\(operation)", key: Self.key(1), due: later + 7 * 86_400_000)
            await scheduler.cancel(operation: "OP-\(operation)", key: Self.key(0))
            if operation % 2 == 0 { await scheduler.cancel(operation: "OP-\(operation)", key: Self.key(1)) }
        }
        #expect(await scheduler.count == 10_000)
        let entries = await scheduler.heapCount
        #expect(entries <= 2 * 10_000 + 2, "\(entries) entries for 10,000 armed timers")
        // What is armed still fires, in due order, and nothing cancelled does.
        let due = await scheduler.takeDue(at: later + 7 * 86_400_000)
        #expect(due.count == 10_000)
        #expect(due.allSatisfy { $0.key == Self.key(1) && Int($0.operation.dropFirst(3))! % 2 == 1 })
        #expect(due.map(\.operation) == due.map(\.operation).sorted(), "one due time: by operation")
        #expect(await scheduler.heapCount == 0)
    }
}
