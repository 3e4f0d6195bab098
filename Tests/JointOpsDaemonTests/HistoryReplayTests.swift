import Foundation
import JointOpsCore
import JointOpsStore
import Testing

@testable import JointOpsDaemon

/// A page far into an operation's trail is described from a replay of the events before it,
/// read a chunk at a time: at every page start and chunk size the descriptions are those of
/// the whole trail (a fresh walker would describe each event by its kind alone).
@Suite struct HistoryReplayTests {
    @Test func aPageAfterAnyEventIsDescribedAsInTheWholeTrailWhateverTheChunk() async throws {
        let harness = try EngineHarness(workflows: [try EngineHarness.minimalWorkflow])
        try await harness.start("OP-1", workflow: "street-robbery", attributes: ["priority": "P2", "weapon_involved": "false"])
        for command in [
            Command.fire(event: "assess"), .hold(reason: "waiting for the owner"), .resume, .fire(event: "dispatch"),
            .note("suspect seen"), .advance(branch: "patrol", to: "on_scene", outcome: nil),
            .advance(branch: "patrol", to: nil, outcome: "handled"),
        ] {
            try await harness.run(command, on: "OP-1")
        }
        let stored = try harness.store.events(of: "OP-1")
        let workflow = try #require(try harness.store.operation("OP-1")?.workflow)
        let whole = History.events(stored, workflow: workflow)
        #expect(stored.count > 8)
        #expect(History.events(Array(stored.dropFirst()), workflow: workflow) != Array(whole.dropFirst()), "without the replay they differ")
        for chunk in [1, 2, 3, 1000] {
            for after in 0...stored.count {
                var walker = try OperationEngine.walker(
                    of: "OP-1", workflow, replayedThrough: Int64(after), in: harness.store, chunk: chunk)
                var fed = History.Walker(workflow: workflow)
                for record in stored.prefix(after) { _ = fed.step(record) }
                #expect(walker.state == fed.state, "after \(after), replayed \(chunk) at a time: every event before, once")
                let page = History.events(Array(stored[after...]), &walker)
                #expect(page == Array(whole[after...]), "after \(after), replayed \(chunk) at a time")
            }
        }
    }
}
