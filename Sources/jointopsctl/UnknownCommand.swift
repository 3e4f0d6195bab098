import ArgumentParser
import JointOpsCore

/// A hint for a mistyped subcommand: ArgumentParser would say "2 unexpected arguments:
/// 'shwo', 'OP-1'", since the group's own command takes no arguments.
enum UnknownCommand {
    /// The message for `arguments` (without the program's name) when they name a subcommand
    /// that does not exist, or nil when ArgumentParser should parse them. Only groups without
    /// a default subcommand are checked: in the others the word is the default's argument.
    static func message(for arguments: [String], root: any ParsableCommand.Type = JointOpsCtl.self) -> String? {
        var command = root
        var path = [root._commandName]
        for argument in arguments {
            let subcommands = command.configuration.subcommands
            guard !argument.hasPrefix("-"), argument != "help", !subcommands.isEmpty else { return nil }
            if let next = subcommands.first(where: { $0._commandName == argument }) {
                command = next
                path.append(argument)
                continue
            }
            guard command.configuration.defaultSubcommand == nil else { return nil }
            let hint = Suggestions.closest(to: argument, in: subcommands.map { $0._commandName }).map { " (did you mean '\($0)'?)" } ?? ""
            return "Error: unknown command '\(argument)'\(hint); '\(path.joined(separator: " ")) --help' lists them"
        }
        return nil
    }
}
