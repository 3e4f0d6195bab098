import Foundation
import JointOpsAuthoring
import JointOpsCore
import JointOpsStore
import Testing

/// Each command's events and projection commit together; replaying the log rebuilds the
/// projection exactly — checked on every shipped scenario.
@Suite struct EventSourcingTests {
    @Test("every scenario, committed command by command, replays to its projection", arguments: Library.scenarios)
    func scenarioReplaysToProjection(_ url: URL) throws {
        let folder = try TemporaryFolder()
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: folder.path("store.sqlite"), workflows)
        let workflow = try Library.workflow(for: url, in: workflows)
        var commitError: (any Error)?
        let report = ScenarioRunner.run(try Library.scenario(url), workflow: workflow) { before, after, transition in
            do { try store.commit([EventStore.Change(state: after, before: before, events: transition.events)]) } catch {
                commitError = error
            }
        }
        #expect(commitError == nil, "\(String(describing: commitError))")
        #expect(report.failures == [])
        let live = try #require(report.finalState)
        let projected = try #require(try store.allOperations().first { $0.id == live.id })
        #expect(projected == live, "the projection differs from the live state")
        #expect(try store.replay(live.id) == live, "replaying the log differs from the live state")
        #expect(try store.eventCount() == report.events.count)
        let chain = try store.verifyChain()
        #expect(chain.isIntact, "\(chain)")
        // Reopening gives the same open operations back.
        try store.close()
        let reopened = try EventStore(options: StoreOptions(path: folder.path("store.sqlite")))
        let recovery = try reopened.recover()
        #expect(recovery.operations == (live.phase.isTerminal ? [] : [live]))
        #expect(recovery.timers.map(\.due) == live.runningTimers.map(\.due).sorted())
    }

    @Test func aStoredEventReadsAsAnAuditTrail() throws {
        let folder = try TemporaryFolder()
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: folder.path("store.sqlite"), workflows)
        let armed = try #require(workflows.first { $0.0.id == "armed-response" }?.0)
        let officer = Actor(uid: 1001, name: "zhang", role: "operate")
        var (state, start) = try OperationState.start(
            armed, id: "OP-7", region: "hexi", attributes: ["incident_type": "armed_robbery", "priority": "P1", "weapon_involved": "true"],
            at: Instant(milliseconds: 1000), actor: officer)
        try store.commit([EventStore.Change(state: state, before: nil, events: start.events)])
        let before = state
        let assess = try state.handle(.fire(event: "assess"), at: Instant(milliseconds: 2000), actor: officer)
        try store.commit([EventStore.Change(state: state, before: before, events: assess.events)])
        let events = try store.events(of: "OP-7")
        #expect(events.map(\.kind) == ["started", "phase_entered", "phase_entered"])
        #expect(events.map(\.operationSequence) == [1, 2, 3])
        #expect(events.allSatisfy { $0.actor == officer })
        #expect(
            events[0].payload.canonical
                == #"{"attributes":{"hostages":0,"incident_type":"armed_robbery","priority":"P1","weapon_involved":true},"operation":"OP-7","region":"hexi","version":2,"workflow":"armed-response"}"#
        )
        #expect(events[2].payload.canonical == #"{"cause":"event","event":"assess","phase":"assessing"}"#)
    }

    @Test func aWorkflowVersionCannotChangeUnderItsNumber() throws {
        let folder = try TemporaryFolder()
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: folder.path("store.sqlite"), workflows)
        let (workflow, source) = workflows[0]
        try store.register(workflow, source: source, at: Instant(milliseconds: 5))
        do {
            try store.register(workflow, source: source + "\n# edited\n", at: Instant(milliseconds: 6))
            Issue.record("accepted changed content under the same version")
        } catch {
            #expect(error.kind == .conflict)
            #expect(
                error.message
                    == "registering workflow '\(workflow.id)' v1 was refused by the database: workflow '\(workflow.id)' version 1 is already stored with different content; bump 'version' in the file so running operations keep the version they started with; nothing of it was written."
                    || error.message.contains("bump 'version'"))
        }
    }

    @Test func aWorkflowVersionCannotGoDown() throws {
        let folder = try TemporaryFolder()
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: folder.path("store.sqlite"), workflows)
        let (workflow, source) = workflows[0]
        let stored = "\nversion: \(workflow.version)"
        #expect(source.contains(stored))
        let nextSource = source.replacingOccurrences(of: stored, with: "\nversion: \(workflow.version + 1)")
        let next = try #require(WorkflowLoader.load(source: nextSource, file: "next.yaml").workflow)
        try store.register(next, source: nextSource, at: Instant(milliseconds: 5))
        // The stored version put back as it was is refused as well as a changed one.
        for older in [source, source + "\n# edited\n"] {
            do {
                try store.register(workflow, source: older, at: Instant(milliseconds: 6))
                Issue.record("accepted version \(workflow.version) after version \(next.version)")
            } catch {
                #expect(error.kind == .conflict)
                #expect(error.workflow == workflow.id)
                #expect(
                    error.message.contains(
                        "workflow '\(workflow.id)' version \(workflow.version) is lower than version \(next.version), which is already stored; raise 'version' in the file above \(next.version)"
                    ), "\(error)")
            }
        }
        try store.register(next, source: nextSource, at: Instant(milliseconds: 7))
    }

    @Test func aFailedBatchWritesNothing() throws {
        let folder = try TemporaryFolder()
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: folder.path("store.sqlite"), workflows)
        let changes = try startOperations(workflows[0].0, count: 3)
        try store.commit([changes[0]])
        // The second change starts OP-0 again: its events collide with those on disk.
        do {
            try store.commit([changes[1], changes[0], changes[2]])
            Issue.record("a conflicting batch was accepted")
        } catch {
            #expect(error.kind == .conflict)
            #expect(error.message.hasPrefix("committing 3 operation changes was refused by the database: UNIQUE constraint failed"))
        }
        #expect(try store.allOperations().map(\.id) == ["OP-0"])
        #expect(try store.eventCount() == changes[0].events.count)
        #expect(try store.verifyChain().isIntact)
    }
}
