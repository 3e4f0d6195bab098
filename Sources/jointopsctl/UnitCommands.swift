import ArgumentParser
import Foundation
import JointOpsCore
import JointOpsProtocol

/// `jointopsctl units …`: the roster (io.jointops.Units).
struct Units: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The units: list them (the default), add, change, retire, set a status, import a roster, assign, preempt.",
        subcommands: [
            UnitsList.self, UnitsAdd.self, UnitsChange.self, UnitsRetire.self, UnitsStatus.self, UnitsImport.self, UnitsAssign.self,
            UnitsPreempt.self,
        ],
        defaultSubcommand: UnitsList.self)

    /// Prints the units of a reply as a table (or the reply as JSON).
    static func print(_ reply: [String: JSONValue], key: String, _ connection: ConnectionOptions) {
        if connection.json { return Swift.print(JSONValue.object(reply).canonical) }
        let units: [JSONValue]
        switch reply[key] {
        case .array(let items)?: units = items
        case let unit?: units = [unit]
        case nil: units = []
        }
        guard !units.isEmpty else { return Swift.print("no units") }
        Swift.print(
            Render.table(
                ["UNIT", "CALL SIGN", "BRANCH", "HOME", "CAPABILITIES", "STATUS", "OPERATION"],
                units.map { unit in
                    var status = Render.string(unit["status"])
                    if let reason = unit["statusReason"]?.stringValue { status += " (\(reason))" }
                    if unit["retired"] == .bool(true) { status = "retired" }
                    let operation = unit["operation"]?.stringValue.map { "\($0) \(Render.string(unit["instance"]))" } ?? "-"
                    let capabilities = Render.array(unit["capabilities"]).compactMap(\.stringValue)
                    return [
                        Render.string(unit["id"]), Render.string(unit["callSign"]), Render.string(unit["branch"]),
                        Render.string(unit["homeRegion"]), capabilities.isEmpty ? "-" : capabilities.joined(separator: ","), status,
                        operation,
                    ]
                }))
    }
}

struct UnitsList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List units, by id.")
    @Option(help: "Only units homed in this region or its sub-regions.") var region: String?
    @Option(help: "Only units of this branch kind (swat, public_order, …).") var branch: String?
    @Option(help: "Only units in this status (available, dispatched, en_route, on_scene, returning, out_of_service).")
    var status: String?
    @Option(help: "Only units with this capability.") var capability: String?
    @Flag(name: .long, help: "Include retired units.") var all = false
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        var parameters: [String: JSONValue] = [:]
        for (key, value) in [("region", region), ("branch", branch), ("status", status), ("capability", capability)] {
            if let value { parameters[key] = .string(value) }
        }
        if all { parameters["includeRetired"] = .bool(true) }
        Units.print(try Session(options: connection).call("io.jointops.Units.List", parameters), key: "units", connection)
    }
}

struct UnitsAdd: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a unit (available).")
    @Argument(help: "The unit's id.") var id: String
    @Option(help: "Its radio call sign.") var callSign: String
    @Option(help: "The branch kind it serves.") var branch: String
    @Option(help: "The region it is stationed in.") var home: String
    @Option(help: "A capability (armed, negotiator, k9, …); repeat for more.") var capability: [String] = []
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        let reply = try Session(options: connection).call(
            "io.jointops.Units.Add",
            [
                "id": .string(id), "callSign": .string(callSign), "branch": .string(branch), "homeRegion": .string(home),
                "capabilities": .array(capability.map(JSONValue.string)),
            ], retrying: true)
        Units.print(reply, key: "unit", connection)
    }
}

struct UnitsChange: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "change", abstract: "Change a unit's call sign, home region or capabilities.")
    @Argument(help: "The unit.") var id: String
    @Option(help: "A new call sign.") var callSign: String?
    @Option(help: "A new home region.") var home: String?
    @Option(help: "The new capabilities, replacing the old ones; repeat for more.") var capability: [String] = []
    @Flag(help: "Remove every capability.") var noCapabilities = false
    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        guard !(noCapabilities && !capability.isEmpty) else {
            throw ValidationError(
                "--no-capabilities removes every capability and --capability replaces them: give one or the other")
        }
    }

    func run() throws {
        var parameters: [String: JSONValue] = ["id": .string(id)]
        if let callSign { parameters["callSign"] = .string(callSign) }
        if let home { parameters["homeRegion"] = .string(home) }
        if !capability.isEmpty || noCapabilities { parameters["capabilities"] = .array(capability.map(JSONValue.string)) }
        Units.print(try Session(options: connection).call("io.jointops.Units.Change", parameters, retrying: true), key: "unit", connection)
    }
}

struct UnitsRetire: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "retire", abstract: "Retire a unit for good.")
    @Argument(help: "The unit.") var id: String
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        Units.print(
            try Session(options: connection).call("io.jointops.Units.Retire", ["id": .string(id)], retrying: true), key: "unit", connection)
    }
}

struct UnitsStatus: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Set a unit's status: en_route, on_scene, returning, available, out_of_service (with a reason).")
    @Argument(help: "The unit.") var id: String
    @Argument(help: "The new status.") var status: String
    @Argument(
        help:
            "Why (needed for out_of_service, and for returning or available while the unit serves an active branch: it then leaves the branch)."
    ) var reason: String?
    /// As `units assign` and `units preempt` take their reason: either way is accepted.
    @Option(name: .customLong("reason"), help: "The same reason, given as the other unit commands take theirs.") var reasonOption: String?
    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        if reason != nil, reasonOption != nil { throw ValidationError("give the reason once: after the status, or with --reason") }
    }

    func run() throws {
        var parameters: [String: JSONValue] = ["id": .string(id), "status": .string(status)]
        if let reason = reason ?? reasonOption { parameters["reason"] = .string(reason) }
        Units.print(
            try Session(options: connection).call("io.jointops.Units.SetStatus", parameters, retrying: true), key: "unit", connection)
    }
}

struct UnitsImport: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Add every unit of a roster file (YAML, or CSV by its .csv name): all or none.")
    @Argument(help: "The roster file.") var file: String
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        var status = stat()
        let exists = stat(file, &status) == 0
        let isRegular = exists && status.st_mode & S_IFMT == S_IFREG
        guard isRegular, let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            let why =
                !exists
                ? "there is no such file"
                : status.st_mode & S_IFMT == S_IFDIR
                    ? "it is a directory"
                    : !isRegular
                        ? "it is not a regular file"
                        : !FileManager.default.isReadableFile(atPath: file) ? "permission denied" : "it is not UTF-8 text"
            printError("cannot read the roster file \(file): \(why); nothing was imported.")
            throw ExitCode(Exit.usage)
        }
        let reply = try Session(options: connection).call(
            "io.jointops.Units.Import",
            ["text": .string(text), "format": .string(file.lowercased().hasSuffix(".csv") ? "csv" : "yaml"), "file": .string(file)],
            retrying: true)
        if connection.json { return print(JSONValue.object(reply).canonical) }
        let added = Render.array(reply["added"]).compactMap(\.stringValue)
        print("imported \(added.count) unit\(added.count == 1 ? "" : "s")")
    }
}

struct UnitsAssign: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assign", abstract: "Commit units you name to a branch instance of an operation, instead of selection.")
    @Argument(help: "The operation.") var operation: String
    @Argument(help: "The branch instance (swat, swat#2).") var instance: String
    @Argument(help: "The units.") var units: [String]
    @Option(help: "Why these units (recorded).") var reason: String
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        let reply = try Session(options: connection).call(
            "io.jointops.Units.Assign",
            [
                "operation": .string(operation), "instance": .string(instance), "units": .array(units.map(JSONValue.string)),
                "reason": .string(reason),
            ], retrying: true)
        Units.print(reply, key: "units", connection)
    }
}

struct UnitsPreempt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preempt",
        abstract: "Take a unit from a lower-priority operation for a higher-priority one; the other operation escalates.")
    @Argument(help: "The unit.") var id: String
    @Argument(help: "The operation that needs it.") var operation: String
    @Argument(help: "Its branch instance that gets the unit.") var instance: String
    @Option(help: "Why (required, recorded on both operations).") var reason: String
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        let reply = try Session(options: connection).call(
            "io.jointops.Units.Preempt",
            ["id": .string(id), "operation": .string(operation), "instance": .string(instance), "reason": .string(reason)],
            retrying: true)
        Units.print(reply, key: "unit", connection)
    }
}

/// `jointopsctl regions`: the jurisdiction with open operations and free units per region.
struct Regions: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The jurisdiction tree with open operations and free units per region.")
    @Option(help: "Only this region and its sub-regions.") var region: String?
    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        // The daemon answers with the whole tree; --region is applied here, to the table and --json alike.
        let session = Session(options: connection)
        var reply = try session.call("io.jointops.Units.Regions", [:])
        var rows = Render.array(reply["regions"])
        if let region {
            guard let start = rows.firstIndex(where: { $0["id"]?.stringValue == region }) else {
                // Said as jointopsd says an unknown region (InvalidParameter, exit 64), with the closest ids.
                let ids = rows.compactMap { $0["id"]?.stringValue }
                let closest = Suggestions.closest(to: region, in: ids, limit: 3)
                throw session.fail(
                    "org.varlink.service.InvalidParameter",
                    [
                        "parameter": .string("region"),
                        "description": .string(
                            "unknown region '\(region)'"
                                + (closest.isEmpty ? "; 'jointopsctl regions' lists them" : Suggestions.didYouMean(closest))),
                    ])
            }
            let depth = rows[start]["depth"]?.intValue ?? 0
            let end = rows[(start + 1)...].firstIndex { ($0["depth"]?.intValue ?? 0) <= depth } ?? rows.endIndex
            rows = Array(rows[start..<end])
            reply["regions"] = .array(rows)
        }
        if connection.json { return print(JSONValue.object(reply).canonical) }
        let base = rows.first?["depth"]?.intValue ?? 0
        print(
            Render.table(
                ["REGION", "LEVEL", "NAME", "FREE", "FREE WITHIN", "OPERATIONS"],
                rows.map { row in
                    let indent = String(repeating: "  ", count: Int((row["depth"]?.intValue ?? 0) - base))
                    let operations = Render.array(row["operations"]).compactMap(\.stringValue)
                    return [
                        indent + Render.string(row["id"]), Render.string(row["level"]), Render.string(row["name"]),
                        String(row["freeUnits"]?.intValue ?? 0), String(row["freeUnitsWithin"]?.intValue ?? 0),
                        operations.isEmpty ? "" : operations.joined(separator: " "),
                    ]
                }))
    }
}
