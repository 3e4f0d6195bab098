import Foundation
import GRDB
import JointOpsCore
import JointOpsStore
import Testing

/// Attributes changed while an operation runs: the projection's `operation` row (its
/// attributes and its priority column) follows, and still equals the replay of the log.
@Suite struct AttributeChangeTests {
    @Test func theProjectionFollowsAChangeAndEqualsTheReplay() throws {
        let folder = try TemporaryFolder()
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: folder.path("store.sqlite"), workflows)
        let armed = try #require(workflows.first { $0.0.id == "armed-response" }?.0)
        let officer = Actor(uid: 1001, name: "zhang", role: "operate")
        var (state, start) = try OperationState.start(
            armed, id: "OP-SET", region: "hexi", attributes: ["incident_type": "armed_robbery", "priority": "P3"],
            at: Instant(milliseconds: 1000), actor: officer)
        try store.commit([EventStore.Change(state: state, before: nil, events: start.events)])
        let commands: [Command] = [
            .fire(event: "assess"), .fire(event: "dispatch"), .setAttributes(["weapon_involved": "true", "priority": "P1"]),
        ]
        for (offset, command) in commands.enumerated() {
            let before = state
            let transition = try state.handle(command, at: Instant(milliseconds: 2000 + Int64(offset) * 1000), actor: officer)
            try store.commit([EventStore.Change(state: state, before: before, events: transition.events)])
        }
        #expect(state.hasBranch(named: "swat"), "the change dispatched swat")
        let projected = try #require(try store.allOperations().first { $0.id == "OP-SET" })
        #expect(projected == state, "the projection differs from the live state")
        #expect(try store.replay("OP-SET") == state, "replaying the log differs from the live state")
        let events = try store.events(of: "OP-SET")
        let change = try #require(events.first { $0.kind == "attributes_changed" })
        #expect(
            change.payload.canonical
                == #"{"changes":[{"attribute":"priority","from":"P3","to":"P1"},{"attribute":"weapon_involved","from":false,"to":true}]}"#
        )
        try store.close()
        let queue = try DatabaseQueue(path: folder.path("store.sqlite"))
        let row = try queue.read { try Row.fetchOne($0, sql: "SELECT priority, attributes FROM operation WHERE id = 'OP-SET'") }
        try queue.close()
        #expect(row?["priority"] as Int? == 1)
        #expect(
            row?["attributes"] as String?
                == #"{"hostages":0,"incident_type":"armed_robbery","priority":"P1","weapon_involved":true}"#)
    }
}
