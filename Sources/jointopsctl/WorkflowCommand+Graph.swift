public import ArgumentParser
public import JointOpsAuthoring
import JointOpsCore

extension WorkflowCommand {
    struct Graph: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Draw a workflow's phases and branch steps.",
            discussion: "Render DOT with Graphviz: jointopsctl workflow graph FILE --format dot | dot -Tsvg > workflow.svg"
        )

        @Argument(help: "A workflow file.", completion: .file(extensions: ["yaml", "yml"]))
        var file: String

        @Option(help: "mermaid (a state diagram) or dot (Graphviz).")
        var format: WorkflowGraph.Format = .mermaid

        func run() throws {
            let workflow = try SourceFiles.loadWorkflow(file)
            print(WorkflowGraph.render(workflow, as: format), terminator: "")
        }
    }
}

extension WorkflowGraph.Format: ExpressibleByArgument {}
