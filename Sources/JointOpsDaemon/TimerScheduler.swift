import JointOpsCore

/// Every armed timer of every open operation, earliest first. The daemon's timer service
/// polls it; due timers fire in due order (a min-heap with lazy deletion, so one structure
/// holds a million deadlines). Cancelled and re-armed timers leave stale entries behind
/// until their old due time; once they are most of the heap it is rebuilt from what is
/// armed, so it does not grow with every deadline met weeks before it was due (a scale
/// audit saw jointopsd's memory ratchet up 44 -> 93 MB over 310,000 ended operations).
public actor TimerScheduler {
    private struct Entry: Comparable {
        var due: Instant
        var operation: String
        var key: TimerKey

        static func < (lhs: Entry, rhs: Entry) -> Bool {
            (lhs.due, lhs.operation, lhs.key) < (rhs.due, rhs.operation, rhs.key)
        }
    }

    private struct Slot: Hashable {
        var operation: String
        var key: TimerKey
    }

    private var heap: [Entry] = []
    /// The due time currently armed for each timer; heap entries that disagree are stale.
    private var armed: [Slot: Instant] = [:]

    public init() {}

    public var count: Int { armed.count }

    /// Entries in the heap, stale ones included (for tests).
    var heapCount: Int { heap.count }

    public func arm(operation: String, key: TimerKey, due: Instant) {
        armed[Slot(operation: operation, key: key)] = due
        push(Entry(due: due, operation: operation, key: key))
        compactIfMostlyStale()
    }

    public func cancel(operation: String, key: TimerKey) {
        armed[Slot(operation: operation, key: key)] = nil
        compactIfMostlyStale()
    }

    /// Rebuilds the heap from `armed` when over half of it is stale: each rebuild follows at
    /// least as many cancellations as entries it keeps, so its cost is spread thin.
    private func compactIfMostlyStale() {
        guard heap.count >= 1024, heap.count > 2 * armed.count else { return }
        heap = armed.map { Entry(due: $0.value, operation: $0.key.operation, key: $0.key.key) }
        heap.sort()  // a sorted array is a min-heap
    }

    func apply(_ effects: [Effect], operation: String) {
        for effect in effects {
            switch effect {
            case .armTimer(let key, let due): arm(operation: operation, key: key, due: due)
            case .cancelTimer(let key): cancel(operation: operation, key: key)
            default: break
            }
        }
    }

    /// The earliest armed due time, if any.
    public func nextDue() -> Instant? {
        dropStale()
        return heap.first?.due
    }

    /// Removes and returns the timers due at or before `now`, earliest first.
    public func takeDue(at now: Instant) -> [(operation: String, key: TimerKey, due: Instant)] {
        var due: [(String, TimerKey, Instant)] = []
        while true {
            dropStale()
            guard let first = heap.first, first.due <= now else { return due }
            pop()
            armed[Slot(operation: first.operation, key: first.key)] = nil
            due.append((first.operation, first.key, first.due))
        }
    }

    private func dropStale() {
        while let first = heap.first, armed[Slot(operation: first.operation, key: first.key)] != first.due { pop() }
    }

    private func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child] < heap[parent] else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private func pop() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, heap[left] < heap[smallest] { smallest = left }
            if right < heap.count, heap[right] < heap[smallest] { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
