import ArgumentParser
import JointOpsProtocol

/// `jointopsctl`: the operator's and the workflow author's command-line tool.
@main
struct JointOpsCtl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jointopsctl",
        abstract: "Drive jointops operations and author their workflows.",
        discussion: """
            Authoring commands (workflow validate | graph | simulate) need no running daemon; the others talk to \
            jointopsd over its control socket (--socket, or $JOINTOPS_SOCKET).

            A command that changes state carries a request id, and is sent again once with it if the connection \
            drops: jointopsd applies it at most once. If the answer is lost anyway, jointopsctl prints the id; \
            running the command again with JOINTOPS_REQUEST_ID set to it is then safe.

            Exit codes: 0 done; 1 refused by the engine (the reason and what is allowed now are printed): the \
            operation's state does not allow it, or it names an event, step, branch, deadline or escalation the \
            operation does not have; or a unit command refused by the roster, or a backup that would replace a file; \
            'admin verify' found the event log's hash chain broken; 'admin reload' changed nothing (invalid files); \
            'workflow validate' found an error, or 'workflow simulate' an expectation that failed; \
            2 no such operation, workflow or unit; 64 usage, or a parameter jointopsd checks before any operation (a region, \
            a unit's home region, a unit status, a filter value, a count); \
            69 cannot connect to jointopsd (or it turned the connection away: too many open; or it cannot start, and \
            says why: a mistake in its configuration, a state database it may not use, …); \
            74 the daemon could not store the command (nothing was applied); 75 a watch fell behind; \
            77 permission denied (the role needed is printed); 3 no regions file is configured (units and regions commands).
            """,
        version: Release.version,
        subcommands: [
            Start.self, List.self, Show.self, History.self, Fire.self, Advance.self, Reinforce.self, Reassign.self, Hold.self,
            Resume.self, Escalate.self, Acknowledge.self, Note.self, SetAttributes.self,
            Cancel.self, Close.self, Overdue.self, Report.self, Rate.self,
            Workflows.self, Watch.self, Board.self, Metrics.self, Units.self, Regions.self,
            Admin.self, WorkflowCommand.self,
        ]
    )

    static func main() async {
        if let message = UnknownCommand.message(for: Array(CommandLine.arguments.dropFirst())) {
            printError(message)
            Self.exit(withError: ExitCode(Exit.usage))
        }
        // The words of an unquoted reason or note ("hold OP-1 waiting for the lab") are extra
        // arguments to ArgumentParser: say what they most likely are. Checked by a parse of
        // its own; the command then runs as ArgumentParser's main runs it (run here instead,
        // a `watch` in CI once did not end on SIGTERM: the signal stayed blocked).
        do {
            _ = try parseAsRoot(nil)
        } catch  where fullMessage(for: error).contains("nexpected argument") {
            printError(fullMessage(for: error))
            printError("  a reason or a text of several words goes in quotes, e.g. jointopsctl hold OP-1 \"waiting for the forensic lab\"")
            Self.exit(withError: ExitCode(Exit.usage))
        } catch {}
        await main(nil)
    }
}
