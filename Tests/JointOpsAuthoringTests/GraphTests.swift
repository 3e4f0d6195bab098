import JointOpsAuthoring
import JointOpsCore
import Testing

@Suite struct GraphTests {
    @Test func aDOTLabelEscapesEachLineThenBreaksThemWithDOTsLineBreak() throws {
        let source = #"""
            workflow: quoting
            version: 1
            title: Quoting
            phases:
              reported:
                initial: true
                title: 'say "stop" \ now'
            close: {from: [reported], dispositions: [resolved]}
            """#
        let workflow = try #require(WorkflowLoader.load(source: source, file: "quoting.yaml").workflow)
        let dot = WorkflowGraph.render(workflow, as: .dot)
        #expect(dot.contains(#"        "phase_reported" [label="reported\nsay \"stop\" \\ now"];"#))
    }
}

@Suite struct GraphContentTests {
    static let source = """
        workflow: drawn
        version: 1
        title: Drawn
        phases:
          reported:
            initial: true
            on: {deploy: working}
            after:
              - {delay: 10m, event: deploy}
          working:
            dispatch: [patrol]
            join:
              - all: ended
                to: reviewing
          reviewing: {}
        branches:
          patrol:
            kind: public_order
            steps:
              dispatched: {initial: true, next: [en_route, on_scene, stood_down]}
              en_route: {optional: true, next: [on_scene]}
              on_scene: {next: [completed]}
              completed: {end: completed}
              stood_down: {end: stood_down}
        deadlines:
          - id: patrol_on_scene
            reach: patrol.on_scene
            from: patrol.dispatched
            within: 15m
            escalation:
              - {after: 0s, notify: duty_commander}
              - {after: 10m, reinforce: patrol}
        close: {from: [reviewing], dispositions: [resolved]}
        """

    /// Reproducer: a 10-minute phase timer drew as an operator's event, and deadlines,
    /// rungs and (in Mermaid) optional steps did not show at all.
    @Test func timersDeadlinesAndOptionalStepsAreDrawn() throws {
        let loaded = WorkflowLoader.load(source: Self.source, file: "drawn.yaml")
        let workflow = try #require(loaded.workflow, "\(loaded.diagnostics)")
        let mermaid = WorkflowGraph.render(workflow, as: .mermaid)
        #expect(mermaid.contains("    reported --> working : deploy (timer∶ after 10m)"), "\(mermaid)")
        #expect(mermaid.contains(#"        state "en_route (optional)" as patrol_en_route"#), "\(mermaid)")
        #expect(
            mermaid.contains(
                """
                    note right of branch_patrol
                        deadline patrol_on_scene∶ patrol.on_scene within 15m of patrol.dispatched; then after 0s notify duty_commander, after 10m reinforce patrol
                """), "\(mermaid)")
        let dot = WorkflowGraph.render(workflow, as: .dot)
        #expect(dot.contains(#"label="deploy (timer: after 10m)""#), "\(dot)")
        #expect(
            dot.contains(
                #"        "patrol.deadlines" [shape=note, label="deadline patrol_on_scene: patrol.on_scene within 15m of patrol.dispatched; then after 0s notify duty_commander, after 10m reinforce patrol\ndeadline awaiting_units:patrol: patrol units filled within 5m of patrol awaiting units; then after 0s notify duty_commander"];"#
            ), "\(dot)")
    }
}
