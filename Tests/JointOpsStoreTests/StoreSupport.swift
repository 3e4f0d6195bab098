import Foundation
import GRDB
import JointOpsAuthoring
import JointOpsCore
import JointOpsStore
import Testing

/// A fresh folder for one test's database files, removed afterwards.
final class TemporaryFolder: @unchecked Sendable {
    let url: URL

    init(_ name: String = #function) throws {
        let clean = name.filter { $0.isLetter || $0.isNumber }
        url = FileManager.default.temporaryDirectory.appendingPathComponent("jointops-\(clean)-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ file: String) -> String { url.appendingPathComponent(file).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

enum Library {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let workflowsFolder = root.appendingPathComponent("Workflows")

    static func files(in folder: URL) -> [URL] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".yaml") }.sorted()
            .map { folder.appendingPathComponent($0) }
    }

    /// Every shipped workflow with its source text.
    static func workflows() throws -> [(Workflow, String)] {
        try files(in: workflowsFolder).map { url in
            let source = try String(contentsOf: url, encoding: .utf8)
            return (try #require(WorkflowLoader.load(source: source, file: url.lastPathComponent).workflow), source)
        }
    }

    static let scenarios = files(in: workflowsFolder.appendingPathComponent("scenarios"))

    static func workflow(for scenario: URL, in workflows: [(Workflow, String)]) throws -> Workflow {
        let name = scenario.deletingPathExtension().lastPathComponent
        return try #require(workflows.map(\.0).filter { name == $0.id || name.hasPrefix($0.id + "-") }.max { $0.id.count < $1.id.count })
    }

    static func scenario(_ url: URL) throws -> Scenario {
        try #require(ScenarioParser.parse(source: try String(contentsOf: url, encoding: .utf8), file: url.lastPathComponent).0)
    }
}

extension EventStore {
    /// A store with every shipped workflow registered.
    static func withLibrary(
        at path: String, _ workflows: [(Workflow, String)], options: (inout StoreOptions) -> Void = { _ in }
    ) throws -> EventStore {
        var storeOptions = StoreOptions(path: path)
        options(&storeOptions)
        let store = try EventStore(options: storeOptions)
        for (workflow, source) in workflows { try store.register(workflow, source: source, at: Instant(milliseconds: 0)) }
        return store
    }
}

/// Starts `count` operations of `workflow` (attributes from the property test generator's
/// simplest choices) and advances nothing; returns the states and their start changes.
func startOperations(
    _ workflow: Workflow, count: Int, prefix: String = "OP", at: Instant = Instant(milliseconds: 1_795_910_400_000)
) throws -> [EventStore.Change] {
    var attributes: [String: String] = [:]
    for attribute in workflow.attributes where attribute.required {
        switch attribute.type {
        case .string: attributes[attribute.name] = "x"
        case .int: attributes[attribute.name] = "1"
        case .bool: attributes[attribute.name] = "true"
        case .priority: attributes[attribute.name] = "P1"
        case .enumeration(let values): attributes[attribute.name] = values[0]
        }
    }
    return try (0..<count).map { index in
        let (state, transition) = try OperationState.start(
            workflow, id: "\(prefix)-\(index)", region: "hexi", attributes: attributes, at: at,
            actor: Actor(uid: 0, name: "root", role: "admin"))
        return EventStore.Change(state: state, before: nil, events: transition.events)
    }
}

/// Another connection holding the database's write lock, on a thread of its own, from its
/// creation until `release()`.
final class HeldWriteLock: @unchecked Sendable {
    private let connection: DatabaseQueue
    private let letGo = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    init(path: String) throws {
        connection = try DatabaseQueue(path: path)
        let locked = DispatchSemaphore(value: 0)
        Thread { [connection, letGo, finished] in
            try? connection.inTransaction(.immediate) { _ in
                locked.signal()
                letGo.wait()
                return .rollback
            }
            finished.signal()
        }.start()
        locked.wait()
    }

    /// Lets go of the lock and waits until it is let go.
    func release() {
        letGo.signal()
        finished.wait()
    }

    func close() throws { try connection.close() }
}
