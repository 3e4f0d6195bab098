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
