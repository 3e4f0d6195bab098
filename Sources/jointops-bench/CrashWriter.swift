import Foundation
import JointOpsCore
import JointOpsStore

/// `jointops-bench crash-writer STORE WORKFLOWS RUN`: appends to a store under load and
/// writes `ack OPERATION SEQUENCE` on stdout for every command the store acknowledged, until
/// it is killed (the crash test `kill -9`s it) or 30 seconds pass.
enum CrashWriter {
    static func run(store path: String, workflows folder: String, run: String) async throws {
        let store = try EventStore(options: StoreOptions(path: path))
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") }.sorted()
        var workflows: [Workflow] = []
        for name in names {
            let source = try String(contentsOfFile: folder + "/" + name, encoding: .utf8)
            guard let workflow = WorkflowLoader.load(source: source, file: name).workflow else { continue }
            try store.register(workflow, source: source, at: Instant(milliseconds: 0))
            workflows.append(workflow)
        }
        _ = try store.recover()
        let library = workflows
        let committer = GroupCommitter(store: store)
        write("ready\n")
        let deadline = ContinuousClock.now + .seconds(30)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                group.addTask {
                    var index = 0
                    while ContinuousClock.now < deadline {
                        let workflow = library[(writer + index) % library.count]
                        try await drive(workflow, id: "R\(run)-W\(writer)-\(index)", committer)
                        index += 1
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Starts one operation and fires a few commands at it, acknowledging each.
    private static func drive(_ workflow: Workflow, id: String, _ committer: GroupCommitter) async throws {
        var attributes: [String: String] = [:]
        for attribute in workflow.attributes where attribute.required {
            switch attribute.type {
            case .string: attributes[attribute.name] = "x"
            case .int: attributes[attribute.name] = "1"
            case .bool: attributes[attribute.name] = "true"
            case .priority: attributes[attribute.name] = "P2"
            case .enumeration(let values): attributes[attribute.name] = values[0]
            }
        }
        var now = Instant(milliseconds: 1_795_910_400_000)
        var (state, transition) = try OperationState.start(
            workflow, id: id, region: "hexi", attributes: attributes, at: now, actor: Actor(uid: 0, name: "root", role: "admin"))
        try await committer.commit(EventStore.Change(state: state, before: nil, events: transition.events))
        write("ack \(id) \(state.sequence)\n")
        for round in 0..<6 {
            now = now + 60_000
            let before = state
            let command: Command
            if case .phase(let phase) = state.phase, round % 2 == 0, let event = workflow.phases[phase].events.first {
                command = .fire(event: event.name)
            } else {
                command = .note("round \(round)")
            }
            guard let next = try? state.handle(command, at: now, actor: nil) else {
                state = before
                continue
            }
            try await committer.commit(EventStore.Change(state: state, before: before, events: next.events))
            write("ack \(id) \(state.sequence)\n")
        }
    }

    /// One unbuffered write per line, so a line on the pipe means the command was acknowledged.
    private static func write(_ line: String) {
        FileHandle.standardOutput.write(Data(line.utf8))
    }
}
