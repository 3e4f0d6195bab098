import ArgumentParser

/// `jointopsctl`: the operator's and the workflow author's command-line tool.
@main
struct JointOpsCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jointopsctl",
        abstract: "Drive jointops operations and author their workflows.",
        discussion: "Authoring commands (workflow validate | graph | simulate) need no running daemon.",
        subcommands: [WorkflowCommand.self]
    )
}
