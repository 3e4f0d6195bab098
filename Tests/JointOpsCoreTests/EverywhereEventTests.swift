import JointOpsCore
import Testing

/// Workflow-wide events (`on:` beside `phases:`) and phases that stand their branches down:
/// a search ends early, from wherever it stands, when the child is found.
@Suite struct EverywhereEventTests {
    static let source = """
        workflow: missing-child
        version: 1
        title: Missing child search
        on:
          found: wrapping_up
        phases:
          reported:
            initial: true
            on: {search: searching}
          searching:
            dispatch: [population, traffic]
            on: {verify: verifying}
          verifying:
            on:
              found: {to: reviewing, title: confirmed where the report said}
          wrapping_up:
            stand_down: true
            on: {review: reviewing}
          reviewing: {}
        branches:
          population:
            kind: population
            steps:
              dispatched: {initial: true, next: [canvassing, stood_down]}
              canvassing: {next: [completed, stood_down]}
              completed: {end: completed}
              stood_down: {end: stood_down}
          traffic:
            kind: traffic
            steps:
              dispatched: {initial: true, next: [completed, stood_down]}
              completed: {end: completed}
              stood_down: {end: stood_down}
        close:
          from: [reviewing, wrapping_up]
          dispositions: [found_safe]

        """

    static func workflow() throws -> Workflow {
        let loaded = WorkflowLoader.load(source: source, file: "missing-child.yaml")
        return try #require(loaded.workflow, "\(loaded.diagnostics)")
    }

    @Test func aWorkflowWideEventIsAcceptedInEveryPhaseThatDoesNotDefineItOrLeadsToIt() throws {
        let workflow = try Self.workflow()
        func target(_ phase: String) -> String? {
            let definition = workflow.phases[workflow.phase(named: phase)!]
            return definition.event(named: "found").map { workflow.phases[$0.alternatives[0].target].name }
        }
        #expect(target("reported") == "wrapping_up")
        #expect(target("searching") == "wrapping_up")
        #expect(target("verifying") == "reviewing", "a phase's own event of that name wins")
        #expect(target("wrapping_up") == nil, "not into the phase it leads to")
        #expect(target("reviewing") == "wrapping_up")
    }

    @Test func enteringAStandDownPhaseStandsDownEveryActiveBranch() throws {
        var (state, start) = try OperationState.start(
            try Self.workflow(), id: "OP-MC", region: "hexi", attributes: [:], at: .minutes(0), actor: nil)
        var events = start.events
        events += try state.handle(.fire(event: "search"), at: .minutes(1), actor: nil).events
        events += try state.handle(.advance(branch: "population", to: "canvassing", outcome: nil), at: .minutes(2), actor: nil).events
        let found = try state.handle(.fire(event: "found"), at: .minutes(3), actor: nil)
        events += found.events
        #expect(state.phaseName == "wrapping_up")
        #expect(state.branches.map(\.status) == [.stoodDown, .stoodDown])
        #expect(state.branches.map(\.outcome) == ["phase wrapping_up", "phase wrapping_up"])
        #expect(found.events.map(\.event.kind) == ["phase_entered", "step_entered", "step_entered"])
        #expect(found.effects.contains { if case .releaseUnits = $0 { true } else { false } }, "their units are released")
        #expect(OperationState.replay(state.workflow, events) == state)
        _ = try state.handle(.close(disposition: "found_safe"), at: .minutes(4), actor: nil)
        #expect(state.phase == .closed)
    }
}
