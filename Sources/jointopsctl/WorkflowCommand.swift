import ArgumentParser

/// `jointopsctl workflow …`: authoring tools that need no daemon.
struct WorkflowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workflow",
        abstract: "Validate, draw and simulate workflow definitions.",
        subcommands: [Validate.self, Graph.self, Simulate.self]
    )
}
