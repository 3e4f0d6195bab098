import ArgumentParser
import Foundation
import JointOpsCore

/// `jointopsctl start WORKFLOW --region R --attribute k=v …`
struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start an operation from a workflow.")

    @Argument(help: "The workflow's id (jointopsctl workflows lists them).")
    var workflow: String

    @Option(help: "The jurisdiction the operation runs in.")
    var region: String

    @Option(name: [.customShort("a"), .long], help: "An attribute as NAME=VALUE; repeat for more.")
    var attribute: [String] = []

    @Option(help: "The operation's id; generated (OP-YYYYMMDD-NNNN) when left out.")
    var id: String?

    @Option(help: "A request id of your own, to make retries safe across invocations.")
    var requestId: String?

    @OptionGroup var connection: ConnectionOptions

    func validate() throws { _ = try AttributeArguments.parse(attribute, flag: "--attribute ", example: "--attribute priority=P1") }

    func run() throws {
        let attributes = try AttributeArguments.parse(attribute, flag: "--attribute ", example: "--attribute priority=P1")
        var parameters: [String: JSONValue] = [
            "workflow": .string(workflow), "region": .string(region), "attributes": .object(attributes.mapValues(JSONValue.string)),
        ]
        if let id { parameters["id"] = .string(id) }
        if let requestId { parameters["requestId"] = .string(requestId) }
        try Reply.operation(Session(options: connection).call("io.jointops.Operations.Start", parameters, retrying: true), connection)
    }
}

/// Attributes given as NAME=VALUE words (`start --attribute`, `set`).
enum AttributeArguments {
    /// The values by name; a usage error for a word without '=' or a name given twice.
    /// `flag` and `example` say how the words were given, for the messages.
    static func parse(_ items: [String], flag: String, example: String) throws -> [String: String] {
        var given: [String: String] = [:]
        for item in items {
            guard let equals = item.firstIndex(of: "=") else {
                throw ValidationError("\(flag)'\(item)' must be NAME=VALUE, e.g. \(example)")
            }
            let name = String(item[..<equals])
            // Which one was meant? Say so instead of letting the last one win.
            if let earlier = given.updateValue(String(item[item.index(after: equals)...]), forKey: name) {
                throw ValidationError("\(flag)\(name) is given twice ('\(earlier)' and '\(given[name]!)'); give it once")
            }
        }
        return given
    }
}

/// Prints a command's reply: the operation, briefly, or as JSON.
enum Reply {
    /// Briefly: `ID: [what the command did; ]phase P[; branch at step, …]`, the active branches;
    /// those the command dispatched (at its moment) with the units sent and still awaited, so
    /// a dispatch says whom it sent.
    static func operation(_ reply: [String: JSONValue], _ connection: ConnectionOptions, full: Bool = false, done: String? = nil) {
        if connection.json {
            print(JSONValue.object(reply).canonical)
            return
        }
        guard let operation = reply["operation"] else { return }
        if full {
            print(Render.operation(operation))
            return
        }
        let active = Render.array(operation["branches"]).filter { $0["status"]?.stringValue == "active" }
            .map { branch in
                let sentNow = branch["dispatchedAt"] != nil && branch["dispatchedAt"] == operation["lastChangeAt"]
                return "\(Render.string(branch["instance"])) at \(Render.string(branch["step"]))\(sentNow ? units(of: branch) : "")"
            }
        print(
            "\(Render.string(operation["id"])): \(done.map { "\($0); " } ?? "")phase \(Render.string(operation["phase"]))"
                + (active.isEmpty ? "" : "; " + active.joined(separator: ", ")))
    }
}

extension Reply {
    /// ` (hx-po-01, hx-po-02)`, ` (hx-po-01, 1 more awaited)`, ` (2 units awaited)`, or nothing.
    static func units(of branch: JSONValue) -> String {
        let assigned = Render.array(branch["assignedUnits"]).compactMap(\.stringValue)
        let awaited = branch["awaitingUnits"]?.intValue ?? 0
        let awaiting = awaited == 0 ? [] : ["\(awaited) \(assigned.isEmpty ? "unit\(awaited == 1 ? "" : "s")" : "more") awaited"]
        let parts = assigned + awaiting
        return parts.isEmpty ? "" : " (\(parts.joined(separator: ", ")))"
    }
}

/// Commands that change one operation: each is a Varlink method with the operation id.
protocol OperationCommand: ParsableCommand {
    var id: String { get }
    var connection: ConnectionOptions { get }
    var method: String { get }
    var parameters: [String: JSONValue] { get }
    /// What the command did, for the summary line, when the phase and the active branches do
    /// not show it already (from the operation in the reply).
    func done(_ operation: JSONValue) -> String?
}

extension OperationCommand {
    func done(_ operation: JSONValue) -> String? { nil }

    func run() throws {
        var parameters = self.parameters
        parameters["id"] = .string(id)
        let reply = try Session(options: connection).call("io.jointops.Operations.\(method)", parameters, retrying: true)
        Reply.operation(reply, connection, done: reply["operation"].flatMap(done))
    }
}

struct Fire: OperationCommand {
    static let configuration = CommandConfiguration(abstract: "Fire a phase event (assess, dispatch, …).")
    @Argument(help: "The operation.") var id: String
    @Argument(help: "The event.") var event: String
    @OptionGroup var connection: ConnectionOptions
    var method: String { "Fire" }
    var parameters: [String: JSONValue] { ["event": .string(event)] }
}

struct Advance: OperationCommand {
    static let configuration = CommandConfiguration(abstract: "Advance a branch to a step, or through an outcome of its step.")
    @Argument(help: "The operation.") var id: String
    @Argument(help: "The branch instance (swat, swat#2).") var branch: String
    @Argument(help: "The step to move to.") var step: String?
    @Option(help: "An outcome of the current step, instead of a step.") var outcome: String?
    @OptionGroup var connection: ConnectionOptions
    var method: String { "Advance" }
    var parameters: [String: JSONValue] {
        var parameters: [String: JSONValue] = ["branch": .string(branch)]
        if let step { parameters["step"] = .string(step) }
        if let outcome { parameters["outcome"] = .string(outcome) }
        return parameters
    }

    func validate() throws {
        guard (step == nil) != (outcome == nil) else { throw ValidationError("give a step or --outcome, not both and not neither") }
    }

    /// `swat completed`: a branch that has ended leaves the active ones the line lists.
    func done(_ operation: JSONValue) -> String? {
        let instance = Render.array(operation["branches"]).first { $0["instance"]?.stringValue == branch }
        guard let status = instance?["status"]?.stringValue, status != "active" else { return nil }
        return "\(branch) \(status.replacingOccurrences(of: "_", with: " "))"
    }
}

struct Reinforce: OperationCommand {
    static let configuration = CommandConfiguration(abstract: "Add a branch to a running operation.")
    @Argument(help: "The operation.") var id: String
    @Argument(help: "The branch to add.") var branch: String
    @Option(help: "Units to send.") var units: Int?
    @Option(help: "Region, if not the operation's.") var region: String?
    @Option(name: .customLong("unit"), help: "Send this unit instead of the nearest free ones; repeat for more (needs --why).")
    var namedUnits: [String] = []
    @Option(help: "Why these units (recorded with the assignment).") var why: String?
    @OptionGroup var connection: ConnectionOptions
    var method: String { "Reinforce" }
    var parameters: [String: JSONValue] {
        var parameters: [String: JSONValue] = ["branch": .string(branch)]
        if let units { parameters["units"] = .int(Int64(units)) }
        if let region { parameters["region"] = .string(region) }
        if !namedUnits.isEmpty { parameters["unitIds"] = .array(namedUnits.map(JSONValue.string)) }
        if let why { parameters["unitsReason"] = .string(why) }
        return parameters
    }

    func validate() throws {
        if let units, units < 1 { throw ValidationError("--units must be at least 1") }
        if !namedUnits.isEmpty, why == nil {
            throw ValidationError("--unit needs --why: say why these units instead of the nearest free ones")
        }
    }
}

struct Reassign: OperationCommand {
    static let configuration = CommandConfiguration(abstract: "Move an operation, or one branch, to another region.")
    @Argument(help: "The operation.") var id: String
    @Argument(help: "The new region.") var region: String
    @Option(help: "Only this branch instance.") var branch: String?
    @OptionGroup var connection: ConnectionOptions
    var method: String { "Reassign" }
    var parameters: [String: JSONValue] {
        var parameters: [String: JSONValue] = ["region": .string(region)]
        if let branch { parameters["branch"] = .string(branch) }
        return parameters
    }
}

struct Hold: OperationCommand {
    static let configuration = CommandConfiguration(abstract: "Put an operation on hold.")
    @Argument(help: "The operation.") var id: String
    @Argument(help: "Why.") var reason: String
    @OptionGroup var connection: ConnectionOptions
    var method: String { "Hold" }
    var parameters: [String: JSONValue] { ["reason": .string(reason)] }
    func done(_ operation: JSONValue) -> String? { "on hold (\(operation["heldReason"]?.stringValue ?? reason))" }
}

struct Resume: OperationCommand {
    static let configuration = CommandConfiguration(abstract: "Resume a held operation.")
    @Argument(help: "The operation.") var id: String
    @OptionGroup var connection: ConnectionOptions
    var method: String { "Resume" }
    var parameters: [String: JSONValue] { [:] }
    func done(_ operation: JSONValue) -> String? { "resumed" }
}

struct Escalate: OperationCommand {
    static let configuration = CommandConfiguration(abstract: "Raise an escalation by hand.")
    @Argument(help: "The operation.") var id: String
    @Argument(help: "Why.") var reason: String
    @Option(name: .customLong("to"), help: "Who to tell (default duty_commander).") var audience: String?
    @OptionGroup var connection: ConnectionOptions
    var method: String { "Escalate" }
    var parameters: [String: JSONValue] {
        var parameters: [String: JSONValue] = ["reason": .string(reason)]
        if let audience { parameters["audience"] = .string(audience) }
        return parameters
    }

    func done(_ operation: JSONValue) -> String? {
        Render.array(operation["escalations"]).last.map { "escalation \($0["number"]?.intValue ?? 0) opened" }
    }
}

struct Acknowledge: OperationCommand {
    static let configuration = CommandConfiguration(abstract: "Acknowledge an escalation, by number or by deadline; stops its ladder.")
    @Argument(help: "The operation.") var id: String
    // Read as text, so that a number that is not one is refused in words of our own.
    @Argument(help: "The escalation's number (1, 2, …, as 'jointopsctl show' lists them).") var number: String?
    @Option(help: "The deadline whose escalation to acknowledge.") var deadline: String?
    @OptionGroup var connection: ConnectionOptions
    var method: String { "Acknowledge" }
    var escalation: Int? { number.flatMap { Int($0) } }
    var parameters: [String: JSONValue] {
        if let escalation { return ["escalation": .int(Int64(escalation))] }
        return ["deadline": .string(deadline ?? "")]
    }

    func validate() throws {
        // A negative number ("-1") is read as an option, so it never reaches `number`: look for it
        // among the arguments (before any "--"), or it would be said to be missing.
        let negative = CommandLine.arguments.dropFirst().prefix { $0 != "--" }.first { $0.hasPrefix("-") && Int($0) != nil }
        if let text = negative ?? number, (Int(text) ?? 0) < 1 {
            throw ValidationError(
                "'\(text)' is not an escalation number: give a positive whole number (1, 2, …) as 'jointopsctl show \(id)' lists them, or --deadline NAME"
            )
        }
        guard (number == nil) != (deadline == nil) else {
            throw ValidationError("give the escalation's number or --deadline, not both and not neither")
        }
    }

    /// `escalation 1 (assessment) acknowledged`: named by its deadline, or else by its reason.
    func done(_ operation: JSONValue) -> String? {
        let acknowledged = Render.array(operation["escalations"]).filter { escalation in
            guard escalation["acknowledgedAt"]?.stringValue != nil else { return false }
            if let number = self.escalation { return escalation["number"]?.intValue == Int64(number) }
            return escalation["deadline"]?.stringValue == deadline
        }
        guard let escalation = acknowledged.last else { return nil }
        let name = escalation["deadline"]?.stringValue ?? Render.string(escalation["reason"])
        return "escalation \(escalation["number"]?.intValue ?? 0) (\(name)) acknowledged"
    }
}

struct Note: OperationCommand {
    static let configuration = CommandConfiguration(abstract: "Add a note to an operation's audit trail.")
    @Argument(help: "The operation.") var id: String
    @Argument(help: "The note.") var text: String
    @OptionGroup var connection: ConnectionOptions
    var method: String { "Note" }
    var parameters: [String: JSONValue] { ["text": .string(text)] }
}

struct SetAttributes: OperationCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Change a running operation's attributes (guards see the new values).",
        discussion: """
            Values are read as at the start (priority=P1, weapon_involved=true); NAME= with nothing after the '=' \
            removes an optional attribute (back to its default, if it has one). A dispatch of the current phase whose \
            'when' the change makes true dispatches its branch now.
            """)
    @Argument(help: "The operation.") var id: String
    @Argument(help: ArgumentHelp("An attribute as NAME=VALUE; give one or more.", valueName: "name=value")) var assignments: [String] = []
    @OptionGroup var connection: ConnectionOptions
    var method: String { "SetAttributes" }
    var parameters: [String: JSONValue] {
        let attributes = (try? AttributeArguments.parse(assignments, flag: "", example: "priority=P1")) ?? [:]
        return ["attributes": .object(attributes.mapValues(JSONValue.string))]
    }

    func validate() throws {
        guard !assignments.isEmpty else { throw ValidationError("give at least one NAME=VALUE, e.g. priority=P1") }
        _ = try AttributeArguments.parse(assignments, flag: "", example: "priority=P1")
    }

    /// `set priority P1, weapon_involved true`: the values now, in the order given.
    func done(_ operation: JSONValue) -> String? {
        let names = assignments.map { String($0.prefix { $0 != "=" }) }
        return "set " + names.map { "\($0) \(operation["attributes"]?[$0]?.stringValue ?? "(none)")" }.joined(separator: ", ")
    }
}

struct Cancel: OperationCommand {
    static let configuration = CommandConfiguration(abstract: "Cancel an operation with a reason; stands down every branch.")
    @Argument(help: "The operation.") var id: String
    @Argument(help: "One of the workflow's cancel reasons.") var reason: String
    @OptionGroup var connection: ConnectionOptions
    var method: String { "Cancel" }
    var parameters: [String: JSONValue] { ["reason": .string(reason)] }
}

struct Close: OperationCommand {
    static let configuration = CommandConfiguration(abstract: "Close an operation with a disposition.")
    @Argument(help: "The operation.") var id: String
    @Argument(help: "One of the workflow's dispositions.") var disposition: String
    @OptionGroup var connection: ConnectionOptions
    var method: String { "Close" }
    var parameters: [String: JSONValue] { ["disposition": .string(disposition)] }
}
