import JointOpsCore
import Testing

/// A join counts the branch instances active in its phase or ended there, never those that
/// ended before the phase was entered — even at the same instant, as when a join ends one
/// phase and enters the next.
@Suite struct JoinScopeTests {
    let officer = Actor(uid: 1001, name: "zhang", role: "operate")

    static let source = """
        workflow: join-scope
        version: 1
        title: Two stages joined one after the other
        phases:
          ready:
            initial: true
            on: {go: working}
          working:
            dispatch: [first]
            join:
              - all: completed
                to: second_stage
          second_stage:
            dispatch: [second]
            join:
              - any: completed
                to: done
          done: {}
        branches:
          first:
            kind: other
            steps:
              dispatched: {initial: true, next: [completed, stood_down]}
              completed: {end: completed}
              stood_down: {end: stood_down}
          second:
            kind: other
            steps:
              dispatched: {initial: true, next: [completed, stood_down]}
              completed: {end: completed}
              stood_down: {end: stood_down}
        close:
          from: [done]
          dispositions: [ok]

        """

    func started() throws -> OperationState {
        let result = WorkflowLoader.load(source: Self.source, file: "join-scope.yaml")
        let workflow = try #require(result.workflow, "\(result.diagnostics)")
        var (state, _) = try OperationState.start(workflow, id: "OP-J", region: "hexi", attributes: [:], at: .minutes(0), actor: officer)
        _ = try state.handle(.fire(event: "go"), at: .minutes(1), actor: officer)
        return state
    }

    @Test func aPhaseEnteredByAJoinWaitsForItsOwnBranches() throws {
        var state = try started()
        let join = try state.handle(.advance(branch: "first", to: "completed", outcome: nil), at: .minutes(2), actor: officer)
        #expect(state.phaseName == "second_stage", "first ended in second_stage's entering instant, yet it ended before it")
        #expect(join.events.map(\.event.kind) == ["step_entered", "phase_entered", "branch_dispatched"])
        #expect(state.endedBeforePhase == [0])
        _ = try state.handle(.advance(branch: "second", to: "completed", outcome: nil), at: .minutes(3), actor: officer)
        #expect(state.phaseName == "done")
    }

    @Test func aBranchEndingAtTheInstantItsPhaseWasEnteredStillCounts() throws {
        var state = try started()
        // Another command in the same millisecond as the phase's entry: first ended in working.
        _ = try state.handle(.advance(branch: "first", to: "completed", outcome: nil), at: .minutes(1), actor: officer)
        #expect(state.phaseName == "second_stage")
    }

    @Test func aSnapshotKeepsTheListAndAnOlderOneIsJudgedByTimes() throws {
        var state = try started()
        _ = try state.handle(.advance(branch: "first", to: "completed", outcome: nil), at: .minutes(2), actor: officer)
        let restored = try #require(OperationState(state.snapshot, workflow: state.workflow))
        #expect(restored == state)
        // A store written before the list was kept: first ended at the phase's very instant,
        // so, as joins judged then, it counts in second_stage.
        var older = state.snapshot
        older.endedBeforePhase = nil
        let fromOlder = try #require(OperationState(older, workflow: state.workflow))
        #expect(fromOlder.endedBeforePhase == [])
        older.branches[0].stepEnteredAt[1] = .minutes(1)
        #expect(try #require(OperationState(older, workflow: state.workflow)).endedBeforePhase == [0])
    }
}
