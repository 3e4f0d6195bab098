import Foundation
import JointOpsCore
import JointOpsStore

/// `jointops-bench commit-cost`: the writer thread's cost per committed change, by kind of
/// command, single-threaded, in batches of 64, at synchronous=NORMAL (so fsync does not
/// hide it): the figure to drive down when the store's throughput is the bottleneck. Then
/// the time of a lone command's transaction, with and without fsync: the store's share of
/// a quiet moment's latency.
enum CommitCostBenchmark {
    static func run(_ workflowsFolder: URL) throws {
        let source = try String(contentsOf: workflowsFolder.appendingPathComponent("armed-response.yaml"), encoding: .utf8)
        guard let workflow = WorkflowLoader.load(source: source, file: "armed-response.yaml").workflow else {
            fatalError("armed-response.yaml is invalid")
        }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("jointops-commit-cost-\(getpid()).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let store = try EventStore(options: StoreOptions(path: path, durability: .normal))
        try store.register(workflow, source: source, at: Instant(milliseconds: 0))
        let count = 6400
        var states: [OperationState] = []
        var changes: [EventStore.Change] = []
        for index in 0..<count {
            let (state, start) = try OperationState.start(
                workflow, id: "C\(index)", region: "hexi",
                attributes: ["incident_type": "armed_robbery", "priority": "P1", "weapon_involved": "true"],
                at: Instant(milliseconds: 1000), actor: nil)
            changes.append(EventStore.Change(state: state, before: nil, events: start.events))
            states.append(state)
        }
        try measure("start (2 events, operation row, timer)", changes, store)
        func next(_ command: Command, at milliseconds: Int64) throws -> [EventStore.Change] {
            try states.indices.map { index in
                let before = states[index]
                let transition = try states[index].handle(command, at: Instant(milliseconds: milliseconds), actor: nil)
                return EventStore.Change(state: states[index], before: before, events: transition.events)
            }
        }
        try measure("note (1 event, operation row)", try next(.note("situation report"), at: 2000), store)
        try measure(
            "fire dispatch (branches dispatched, timers armed)", try next(.fire(event: "assess"), at: 3000) + [], store, quiet: true)
        try measure("fire dispatch (branches dispatched, timers armed)", try next(.fire(event: "dispatch"), at: 4000), store)
        try measure(
            "advance (1 event, operation, branch and step rows)",
            try next(.advance(branch: "swat", to: "en_route", outcome: nil), at: 5000), store)
        try store.close()
        try lone(workflow, source: source, path: path + "-lone")
    }

    /// One note per transaction, as at a quiet moment: the fixed cost of a transaction,
    /// without fsync (NORMAL) and with it (FULL). The first 3,000 commits go to a fresh WAL
    /// (at FULL, one the store wrote out with zeros at open: `WALPreallocation`), the last
    /// 3,000 to one checkpointed and restarted at the writer's bound (about 5,000 commits here).
    private static func lone(_ workflow: Workflow, source: String, path: String) throws {
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        for durability in [StoreOptions.Durability.normal, .full] {
            let store = try EventStore(options: StoreOptions(path: path, durability: durability))
            try store.register(workflow, source: source, at: Instant(milliseconds: 0))
            var (state, start) = try OperationState.start(
                workflow, id: "L-\(durability)", region: "hexi",
                attributes: ["incident_type": "armed_robbery", "priority": "P1", "weapon_involved": "true"],
                at: Instant(milliseconds: 1000), actor: nil)
            try store.commit([EventStore.Change(state: state, before: nil, events: start.events)])
            var times: [Double] = []
            let clock = ContinuousClock()
            for index in 0..<12_000 {
                let before = state
                let transition = try state.handle(.note("report"), at: Instant(milliseconds: 2000 + Int64(index)), actor: nil)
                let began = clock.now
                try store.commit([EventStore.Change(state: state, before: before, events: transition.events)])
                times.append(seconds(clock.now - began) * 1e6)
            }
            print(
                "commit cost: " + "one note per transaction, synchronous=\(durability)".padding(toLength: 56, withPad: " ", startingAt: 0)
                    + String(
                        format: "%6.1f µs median (%.1f on a fresh WAL, %.1f once it is restarted)", median(times),
                        median(Array(times.prefix(3000))), median(Array(times.suffix(3000)))))
            try store.close()
        }
    }

    private static func measure(_ label: String, _ changes: [EventStore.Change], _ store: EventStore, quiet: Bool = false) throws {
        let clock = ContinuousClock()
        let start = clock.now
        for first in stride(from: 0, to: changes.count, by: 64) { try store.commit(Array(changes[first..<min(changes.count, first + 64)])) }
        let microseconds = seconds(clock.now - start) * 1e6 / Double(changes.count)
        if !quiet {
            print(
                "commit cost: " + label.padding(toLength: 56, withPad: " ", startingAt: 0)
                    + String(format: "%6.1f µs per change", microseconds))
        }
    }
}
