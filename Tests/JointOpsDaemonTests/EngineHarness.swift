import Foundation
import JointOpsCore
import JointOpsStore
import Logging
import Synchronization

@testable import JointOpsDaemon

/// A clock a test moves by hand, forward or back: the engine's wall clock.
final class TestClock: Sendable {
    private let current: Mutex<Instant>

    init(_ start: Instant) { current = Mutex(start) }

    var now: Instant { current.withLock { $0 } }

    func move(by milliseconds: Int64) { current.withLock { $0 = $0 + milliseconds } }
}

/// Every line a logger wrote, as `LEVEL: message [key=value …]`, for a test to read.
final class RecordedLog: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    var logger: Logger {
        var logger = Logger(label: "test") { _ in RecordingLogHandler(log: self) }
        logger.logLevel = .debug
        return logger
    }
}

struct RecordingLogHandler: LogHandler {
    let log: RecordedLog
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = metadata.merging(event.metadata ?? [:]) { $1 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        log.append("\(event.level): \(event.message)\(fields.isEmpty ? "" : " [\(fields.joined(separator: " "))]")")
    }
}

/// jointopsd's engine in the test's own process, on a fresh store, with a clock the test
/// moves and a recorded log: for what a real daemon cannot be made to do on cue, such as
/// a step back of the system clock. Timers are not fired by themselves: `fireDue` fires
/// those due, as the timer service would.
final class EngineHarness: Sendable {
    let folder: URL
    let store: EventStore
    let engine: OperationEngine
    let clock: TestClock
    let log = RecordedLog()
    let caller = Caller(uid: 1001, gid: 1001, pid: 1, name: "zhang", role: .operate)

    /// `workflows` are YAML texts, one file each; the store and they go in a fresh folder in `base`.
    init(
        workflows: [String], at start: Instant = Instant(milliseconds: 1_795_910_400_000),
        in base: URL = FileManager.default.temporaryDirectory, name: String = #function
    ) throws {
        let clean = String(name.filter { $0.isLetter || $0.isNumber }.prefix(24))
        folder = base.appendingPathComponent(
            "jointops-\(clean)-\(getpid())-\(UUID().uuidString.prefix(6))")
        let workflowsFolder = folder.appendingPathComponent("workflows")
        try FileManager.default.createDirectory(at: workflowsFolder, withIntermediateDirectories: true)
        for (index, text) in workflows.enumerated() {
            try text.write(to: workflowsFolder.appendingPathComponent("w\(index).yaml"), atomically: true, encoding: .utf8)
        }
        clock = TestClock(start)
        let catalog = try WorkflowCatalog.load(from: workflowsFolder.path, logger: log.logger)
        store = try EventStore(options: StoreOptions(path: folder.appendingPathComponent("jointops.sqlite").path))
        for id in catalog.current.keys.sorted() { try store.register(catalog.current[id]!, source: catalog.sources[id]!, at: start) }
        let clock = clock
        engine = OperationEngine(
            store: store, catalog: catalog, recovered: try store.recover(), metrics: DaemonMetrics(), logger: log.logger,
            clock: { clock.now })
    }

    /// The repository's minimal test workflow (street-robbery: a patrol with a 10-minute
    /// on-scene deadline, an assessment due 30 minutes after the start).
    static var minimalWorkflow: String {
        get throws {
            try String(
                contentsOf: DaemonHarness.root.appendingPathComponent("Tests/JointOpsCoreTests/Fixtures/valid/minimal.yaml"),
                encoding: .utf8)
        }
    }

    func start(_ id: String, workflow: String, attributes: [String: String]) async throws {
        _ = try await engine.start(workflow: workflow, region: "hexi", attributes: attributes, id: id, requestID: nil, caller: caller)
    }

    func run(_ command: Command, on id: String) async throws {
        _ = try await engine.execute(command, on: id, method: command.name, requestID: nil, caller: caller)
    }

    /// Fires the timers due now, as the timer service does.
    func fireDue() async {
        for timer in await engine.timers.takeDue(at: clock.now) { await engine.fire(timer.key, of: timer.operation) }
    }

    deinit {
        try? store.close()
        try? FileManager.default.removeItem(at: folder)
    }
}
