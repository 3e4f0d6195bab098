import JointOpsProtocol
import JointOpsStore
import Metrics
import Prometheus
import Synchronization

/// jointopsd's metrics, made through swift-metrics with a factory of their own (no global
/// `MetricsSystem.bootstrap`, so any number of daemons — or tests — can each have theirs) and
/// exported by swift-prometheus's registry in the Prometheus text format.
///
/// Every update is an atomic add or a lookup in a small dictionary under an uncontended
/// lock; the gauges of open operations are kept up to date by each commit's difference
/// (`DaemonMetrics+Operations.swift`), never by scanning the open operations.
public final class DaemonMetrics: Sendable {
    /// Metric names; all start with `jointops_`.
    enum Name {
        static let commands = "jointops_commands_total"
        static let commandDuration = "jointops_command_duration_seconds"
        static let commitBatchSize = "jointops_commit_batch_size"
        static let commitWait = "jointops_commit_wait_seconds"
        static let commitTransaction = "jointops_commit_transaction_seconds"
        static let openOperations = "jointops_open_operations"
        static let activeBranches = "jointops_active_branches"
        static let lateSteps = "jointops_late_steps"
        static let escalations = "jointops_escalations_total"
        static let deadlinesMissed = "jointops_deadlines_missed_total"
        static let units = "jointops_units"
        static let eventLogTailIntact = "jointops_event_log_tail_intact"
        static let eventLogVerifiedIntact = "jointops_event_log_verified_intact"
        static let storeFreeBytes = "jointops_store_free_bytes"
    }

    let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    private let batchSize: Recorder
    private let commitWait: Metrics.Timer
    private let commitTransaction: Metrics.Timer
    private let commandMetrics = Mutex<CommandMetrics>(CommandMetrics())
    let gauges: Mutex<OpenOperationGauges>
    /// Units in service by (status, branch kind).
    let unitGauges = Mutex<[UnitGaugeKey: (count: Int, meter: Meter)]>([:])
    private let lateSteps: Meter

    private struct LabelPair: Hashable {
        var first: String
        var second: String
    }

    private struct CommandMetrics {
        var counters: [LabelPair: Metrics.Counter] = [:]
        var durations: [String: Metrics.Timer] = [:]
        var escalations: [LabelPair: Metrics.Counter] = [:]
        var missed: [String: Metrics.Counter] = [:]
    }

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // A command is acknowledged after an fsync: a millisecond or so, seconds when the disk struggles.
        factory.durationHistogramBuckets[Name.commandDuration] = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
        ]
        // Changes per transaction: 1 when idle, up to the store's batch limit under load.
        factory.valueHistogramBuckets[Name.commitBatchSize] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
        // Waiting for the writer and for company: nothing when idle, about a transaction's
        // time under load (see jointops_commit_transaction_seconds).
        factory.durationHistogramBuckets[Name.commitWait] = [
            .microseconds(10), .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
            .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(100), .seconds(1),
        ]
        // A transaction is an fsync and the rows' writes: ~0.1 ms on a fast SSD, tens of ms on a struggling disk.
        factory.durationHistogramBuckets[Name.commitTransaction] = [
            .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
            .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1),
        ]
        self.factory = factory
        batchSize = Recorder(label: Name.commitBatchSize, dimensions: [], aggregate: true, factory: factory)
        commitWait = Metrics.Timer(label: Name.commitWait, dimensions: [], factory: factory)
        commitTransaction = Metrics.Timer(label: Name.commitTransaction, dimensions: [], factory: factory)
        lateSteps = Meter(label: Name.lateSteps, dimensions: [], factory: factory)
        lateSteps.set(0)
        gauges = Mutex(OpenOperationGauges())
    }

    /// Everything, in the Prometheus text exposition format (version 0.0.4).
    public func exposition() -> String { registry.emitToString() }

    /// One transaction committed: its size, its time, and how long each command in it waited.
    func committed(_ batch: GroupCommitter.CommittedBatch) {
        batchSize.record(batch.commands)
        commitTransaction.record(duration: batch.transaction)
        for wait in batch.waits { commitWait.record(duration: wait) }
    }

    /// One operator command answered: `result` is `ok`, `refused`, or the error's short name.
    func command(_ method: String, result: String, took duration: Duration) {
        let (counter, timer) = commandMetrics.withLock { metrics in
            let key = LabelPair(first: method, second: result)
            let counter =
                metrics.counters[key]
                ?? {
                    let made = Metrics.Counter(
                        label: Name.commands, dimensions: [("method", method), ("result", result)], factory: factory)
                    metrics.counters[key] = made
                    return made
                }()
            let timer =
                metrics.durations[method]
                ?? {
                    let made = Metrics.Timer(label: Name.commandDuration, dimensions: [("method", method)], factory: factory)
                    metrics.durations[method] = made
                    return made
                }()
            return (counter, timer)
        }
        counter.increment()
        timer.record(duration: duration)
    }

    /// A rung of a deadline's ladder fired (`kind` notify, reinforce or event), or an
    /// operator raised an escalation by hand (`deadline` empty, `kind` manual).
    func escalated(deadline: String, kind: String) {
        let counter = commandMetrics.withLock { metrics in
            let key = LabelPair(first: deadline, second: kind)
            if let counter = metrics.escalations[key] { return counter }
            let made = Metrics.Counter(label: Name.escalations, dimensions: [("deadline", deadline), ("kind", kind)], factory: factory)
            metrics.escalations[key] = made
            return made
        }
        counter.increment()
    }

    /// A deadline passed unmet (its escalation opened).
    func missed(deadline: String) {
        let counter = commandMetrics.withLock { metrics in
            if let counter = metrics.missed[deadline] { return counter }
            let made = Metrics.Counter(label: Name.deadlinesMissed, dimensions: [("deadline", deadline)], factory: factory)
            metrics.missed[deadline] = made
            return made
        }
        counter.increment()
    }

    func setLateSteps(_ count: Int) { lateSteps.set(count) }

    /// Whether the last events of the log verified when the daemon started (1) or not (0):
    /// alert on 0 (see `Daemon`).
    func eventLogTail(intact: Bool) {
        Meter(label: Name.eventLogTailIntact, dimensions: [], factory: factory).set(intact ? 1 : 0)
    }

    /// The bytes jointopsd may still write on the file system holding the store, as the last
    /// status (every 5 s) read them.
    func storeFree(bytes: Int) {
        Meter(label: Name.storeFreeBytes, dimensions: [], factory: factory).set(Double(bytes))
    }

    /// Whether the last whole-chain verification (`jointopsctl admin verify`) found it intact
    /// (1) or broken (0); absent until one has run since start.
    func eventLogVerified(intact: Bool) {
        Meter(label: Name.eventLogVerifiedIntact, dimensions: [], factory: factory).set(intact ? 1 : 0)
    }

    /// The `result` label of a failed command: `refused` for the engine's refusal, else the
    /// Varlink error's last name component (`OperationNotFound`, `InvalidParameter`, …).
    static func result(of error: VarlinkError) -> String {
        if error.name == "io.jointops.Operations.CommandRefused" { return "refused" }
        return error.name.split(separator: ".").last.map(String.init) ?? error.name
    }
}
