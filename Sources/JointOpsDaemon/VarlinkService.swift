import Foundation
import JointOpsCore
import JointOpsProtocol
import JointOpsStore

/// Answers one Varlink call for one caller: checks the role, reads the parameters, and
/// hands the work to the engine. Streams (`Watch`) are handled by the connection.
struct VarlinkService: Sendable {
    let engine: OperationEngine
    let version: String
    let workflowsDirectory: String
    /// The Unix group that gives each role (the configuration's `groups`), named in refusals.
    let roleGroups: [Role: String]

    /// Answers a call; operator commands (the methods that need `operate`) are counted by
    /// method and result, and timed, in the daemon's metrics. At log level debug every call
    /// answered here (all but `Watch`) is logged with its caller, result and time.
    func answer(_ call: VarlinkCall, from caller: Caller) async throws(VarlinkError) -> JSONValue {
        let counted = MethodTable.required[call.method] == .operate
        let logged = engine.logger.logLevel <= .debug
        guard counted || logged else { return try await dispatch(call, from: caller) }
        let clock = ContinuousClock()
        let started = clock.now
        do {
            let reply = try await dispatch(call, from: caller)
            if counted { engine.metrics.command(call.name, result: "ok", took: clock.now - started) }
            if logged { logCall(call, caller, result: "answered", took: clock.now - started) }
            return reply
        } catch {
            if counted { engine.metrics.command(call.name, result: DaemonMetrics.result(of: error), took: clock.now - started) }
            if logged { logCall(call, caller, result: "refused with \(error.name)", took: clock.now - started) }
            throw error
        }
    }

    /// `call io.jointops.Operations.Show by alice (uid 1001, view) answered in 0.41 ms`
    private func logCall(_ call: VarlinkCall, _ caller: Caller, result: String, took duration: Duration) {
        let milliseconds = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        engine.logger.debug(
            "call \(call.method) by \(caller.name) (uid \(caller.uid), \(caller.role)) \(result) in \(String(format: "%.2f", milliseconds)) ms"
        )
    }

    private func dispatch(_ call: VarlinkCall, from caller: Caller) async throws(VarlinkError) -> JSONValue {
        try authorize(call, caller)
        let p = call.parameters
        switch call.method {
        case "org.varlink.service.GetInfo":
            _ = try Parameters(p, known: [])
            return .object([
                "vendor": .string("jointops"), "product": .string("jointopsd"), "version": .string(version),
                "url": .string("urn:jointops"), "interfaces": .array(MethodTable.interfaces.map(JSONValue.string)),
            ])
        case "org.varlink.service.GetInterfaceDescription":
            let name = try Parameters(p, known: ["interface"]).string("interface")
            guard let description = InterfaceDefinitions.all[name] else { throw VarlinkError.interfaceNotFound(name) }
            return .object(["description": .string(description)])
        case "io.jointops.Operations.Start":
            let q = try Parameters(p, known: ["workflow", "region", "attributes", "id", "requestId"])
            return try await engine.start(
                workflow: try q.string("workflow"), region: try q.string("region"), attributes: try q.stringMap("attributes"),
                id: try q.optionalString("id"), requestID: try RequestID.of(q), caller: caller)
        case "io.jointops.Operations.List":
            let q = try Parameters(p, known: ["phase", "region", "branch", "priority", "overdue", "includeEnded", "limit", "before"])
            let limit = try q.pageLimit(pagingOnWith: "before")
            return try await engine.list(
                ListFilter(
                    phase: try q.optionalString("phase"), region: try q.optionalString("region"), branch: try q.optionalString("branch"),
                    priority: try q.optionalString("priority"), overdue: try q.optionalBool("overdue") ?? false,
                    includeEnded: try q.optionalBool("includeEnded") ?? false),
                limit: limit, before: try q.optionalString("before"))
        case "io.jointops.Operations.Show":
            return try await engine.show(try Parameters(p, known: ["id"]).string("id"))
        case "io.jointops.Operations.Report":
            return try await engine.report(try Parameters(p, known: ["id"]).string("id"))
        case "io.jointops.Operations.Evaluate":
            let q = try Parameters(p, known: ["from", "to", "region", "branch", "workflow", "priority"])
            let from = try q.instant("from")
            let to = try q.instant("to")
            guard to > from else { throw VarlinkError.invalidParameter("to", because: "the period must end after it starts ('from')") }
            return try await engine.evaluate(
                from: from, to: to, region: try q.optionalString("region"), branch: try q.optionalString("branch"),
                workflow: try q.optionalString("workflow"), priority: try q.optionalString("priority"))
        case "io.jointops.Operations.Rate":
            let q = try Parameters(p, known: ["id", "before", "during", "after", "score", "comment", "channel", "category", "requestId"])
            let rating = ServiceRating(
                before: try q.int("before"), during: try q.int("during"), after: try q.int("after"), score: try q.int("score"),
                comment: try q.optionalString("comment") ?? "")
            return try await engine.rate(
                try q.string("id"), rating: rating, channel: try q.optionalString("channel"), category: try q.optionalString("category"),
                requestID: try RequestID.of(q), caller: caller)
        case "io.jointops.Operations.History":
            let q = try Parameters(p, known: ["id", "limit", "after"])
            let id = try q.string("id")
            let limit = try q.pageLimit(pagingOnWith: "after")
            let after = try q.optionalInt("after") ?? 0
            guard after >= 0 else {
                throw VarlinkError.invalidParameter(
                    "after", because: "\(after) is negative; give the 'next' of the page before, or leave it out for the start")
            }
            return try await engine.history(id, limit: limit, after: Int64(after))
        case "io.jointops.Operations.Overdue":
            let q = try Parameters(p, known: ["region", "branch"])
            return try await engine.overdue(region: try q.optionalString("region"), branch: try q.optionalString("branch"))
        case "io.jointops.Operations.Workflows":
            _ = try Parameters(p, known: [])
            return await engine.workflows()
        case let method where method.hasPrefix("io.jointops.Units."):
            return try await units(call, from: caller)
        case "io.jointops.Admin.Verify":
            _ = try Parameters(p, known: [])
            return try await engine.verify()
        case "io.jointops.Admin.Reload":
            _ = try Parameters(p, known: [])
            return try await engine.reload(from: workflowsDirectory)
        case "io.jointops.Admin.Metrics":
            _ = try Parameters(p, known: [])
            return .object(["text": .string(engine.metrics.exposition())])
        case "io.jointops.Admin.Backup":
            let q = try Parameters(p, known: ["path", "overwrite"])
            return try await engine.backup(to: try q.string("path"), overwrite: try q.optionalBool("overwrite") ?? false)
        default:
            let (command, id, requestID) = try operatorCommand(call)
            var named: NamedUnits?
            if call.name == "Reinforce", let ids = try Parameters(p, known: Set(p.keys)).optionalStrings("unitIds") {
                guard !ids.isEmpty else {
                    throw VarlinkError.invalidParameter("unitIds", because: "name at least one unit, or leave it out")
                }
                guard let reason = try Parameters(p, known: Set(p.keys)).optionalString("unitsReason"), !reason.isBlank else {
                    throw VarlinkError.invalidParameter("unitsReason", because: "say why these units instead of the nearest free ones")
                }
                if case .reinforce(_, let units?, _) = command, units < 1 {
                    throw VarlinkError.invalidParameter("units", because: "ask for at least 1 unit, not \(units)")
                }
                if case .reinforce(_, let units?, _) = command, ids.count > units {
                    throw VarlinkError.invalidParameter(
                        "unitIds",
                        because: "\(ids.count) units are named but 'units' asks for \(units); name at most \(units), or raise 'units'")
                }
                named = NamedUnits(ids: ids, reason: reason)
            }
            return try await engine.execute(command, on: id, method: call.name, requestID: requestID, caller: caller, namedUnits: named)
        }
    }

    private func units(_ call: VarlinkCall, from caller: Caller) async throws(VarlinkError) -> JSONValue {
        let p = call.parameters
        switch call.name {
        case "List":
            let q = try Parameters(p, known: ["region", "branch", "status", "capability", "includeRetired"])
            return try await engine.units(
                region: try q.optionalString("region"), branch: try q.optionalString("branch"), status: try q.optionalString("status"),
                capability: try q.optionalString("capability"), includeRetired: try q.optionalBool("includeRetired") ?? false)
        case "Regions":
            _ = try Parameters(p, known: [])
            return try await engine.regions()
        case "Add":
            let q = try Parameters(p, known: ["id", "callSign", "branch", "homeRegion", "capabilities", "requestId"])
            let branch = try q.string("branch")
            guard let kind = BranchDefinition.Kind(rawValue: branch) else {
                throw VarlinkError.invalidParameter(
                    "branch",
                    because:
                        "'\(branch)' is not a branch kind; use one of \(BranchDefinition.Kind.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            let unit = JointOpsCore.Unit(
                id: try q.string("id"), callSign: try q.string("callSign"), kind: kind, homeRegion: try q.string("homeRegion"),
                capabilities: Set(try q.optionalStrings("capabilities") ?? []))
            return try await engine.addUnit(unit, caller: caller, requestID: try RequestID.of(q))
        case "Change":
            let q = try Parameters(p, known: ["id", "callSign", "homeRegion", "capabilities", "requestId"])
            return try await engine.changeUnit(
                try q.string("id"), callSign: try q.optionalString("callSign"), homeRegion: try q.optionalString("homeRegion"),
                capabilities: try q.optionalStrings("capabilities").map(Set.init), caller: caller,
                requestID: try RequestID.of(q))
        case "Retire":
            let q = try Parameters(p, known: ["id", "requestId"])
            return try await engine.retireUnit(try q.string("id"), caller: caller, requestID: try RequestID.of(q))
        case "SetStatus":
            let q = try Parameters(p, known: ["id", "status", "reason", "requestId"])
            let text = try q.string("status")
            guard let status = UnitStatus(rawValue: text) else {
                throw VarlinkError.invalidParameter(
                    "status",
                    because: "'\(text)' is not a unit status; use one of \(UnitStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let reason = try q.optionalString("reason")
            if let reason, reason.isBlank {
                throw VarlinkError.invalidParameter("reason", because: "a reason of only spaces says nothing: say why, or leave it out")
            }
            return try await engine.setUnitStatus(
                try q.string("id"), to: status, reason: reason, caller: caller,
                requestID: try RequestID.of(q))
        case "Import":
            let q = try Parameters(p, known: ["text", "format", "file", "requestId"])
            return try await engine.importUnits(
                text: try q.text("text", limit: 1 << 20), format: try q.string("format"), file: try q.optionalString("file") ?? "import",
                caller: caller, requestID: try RequestID.of(q))
        case "Assign":
            let q = try Parameters(p, known: ["operation", "instance", "units", "reason", "requestId"])
            guard let units = try q.optionalStrings("units"), !units.isEmpty else {
                throw VarlinkError.invalidParameter("units", because: "name at least one unit")
            }
            return try await engine.assignUnits(
                units, to: try q.string("operation"), instance: try q.string("instance"), reason: try q.string("reason"), caller: caller,
                requestID: try RequestID.of(q))
        case "Preempt":
            let q = try Parameters(p, known: ["id", "operation", "instance", "reason", "requestId"])
            return try await engine.preempt(
                try q.string("id"), for: try q.string("operation"), instance: try q.string("instance"), reason: try q.string("reason"),
                caller: caller, requestID: try RequestID.of(q))
        default:
            throw Self.notFound(call)
        }
    }

    /// The standard error for a method that is not here, with a `description` of what to
    /// call instead; the name is echoed at most 200 characters long.
    static func notFound(_ call: VarlinkCall) -> VarlinkError {
        func clipped(_ text: String) -> String { text.count > 200 ? text.prefix(200) + "…" : text }
        let echoed = clipped(call.method)
        let known = MethodTable.required.keys.sorted()
        if MethodTable.interfaces.contains(call.interface) {
            let names = known.filter { $0.hasPrefix(call.interface + ".") }.map { String($0.dropFirst(call.interface.count + 1)) }
            var error = VarlinkError.methodNotFound(echoed)
            error.parameters["description"] = .string(
                "\(call.interface) has no method '\(clipped(call.name))'\(Suggestions.hint(for: call.name, in: names, noun: "its methods"))"
            )
            return error
        }
        if call.interface.isEmpty {
            // An unqualified name: say which interface has it.
            let qualified = known.filter { $0.hasSuffix("." + call.method) }
            var error = VarlinkError.methodNotFound(echoed)
            error.parameters["description"] = .string(
                qualified.isEmpty
                    ? "a method is named with its interface, e.g. io.jointops.Operations.List; the interfaces here are \(MethodTable.interfaces.joined(separator: ", "))"
                    : "a method is named with its interface: \(qualified.joined(separator: " or "))")
            return error
        }
        var error = VarlinkError.interfaceNotFound(clipped(call.interface))
        error.parameters["description"] = .string(
            "no interface '\(clipped(call.interface))' here\(Suggestions.hint(for: call.interface, in: MethodTable.interfaces, noun: "the interfaces are"))"
        )
        return error
    }

    func authorize(_ call: VarlinkCall, _ caller: Caller) throws(VarlinkError) {
        guard let required = MethodTable.required[call.method] else { throw Self.notFound(call) }
        guard caller.role >= required else {
            let group = roleGroups[required] ?? required.description
            throw VarlinkError(
                call.interface == "io.jointops.Admin" ? "io.jointops.Admin.PermissionDenied" : "io.jointops.Operations.PermissionDenied",
                [
                    "method": .string(call.method), "required": .string(required.description), "role": .string(caller.role.description),
                    "group": .string(group), "groupExists": .bool(PeerCredentials.RoleGroups.gid(of: group) != nil),
                ])
        }
    }

    /// The engine command of an operator method, with the operation id and request id.
    private func operatorCommand(_ call: VarlinkCall) throws(VarlinkError) -> (Command, String, RequestID?) {
        let p = call.parameters
        func params(_ names: Set<String>) throws(VarlinkError) -> Parameters { try Parameters(p, known: names.union(["id", "requestId"])) }
        let command: Command
        let q: Parameters
        switch call.name {
        case "Fire":
            q = try params(["event"])
            command = .fire(event: try q.string("event"))
        case "Advance":
            q = try params(["branch", "step", "outcome"])
            let step = try q.optionalString("step")
            let outcome = try q.optionalString("outcome")
            guard (step == nil) != (outcome == nil) else {
                throw VarlinkError.invalidParameter(step == nil ? "step" : "outcome", because: "give exactly one of 'step' and 'outcome'")
            }
            command = .advance(branch: try q.string("branch"), to: step, outcome: outcome)
        case "Reinforce":
            q = try params(["branch", "units", "region", "unitIds", "unitsReason"])
            command = .reinforce(branch: try q.string("branch"), units: try q.optionalInt("units"), region: try q.optionalString("region"))
        case "Reassign":
            q = try params(["region", "branch"])
            command = .reassign(region: try q.string("region"), branch: try q.optionalString("branch"))
        case "Hold":
            q = try params(["reason"])
            command = .hold(reason: try q.string("reason"))
        case "Resume":
            q = try params([])
            command = .resume
        case "Escalate":
            q = try params(["reason", "audience"])
            command = .escalate(reason: try q.string("reason"), to: try q.optionalString("audience"))
        case "Acknowledge":
            q = try params(["escalation", "deadline"])
            if try q.optionalInt("escalation") != nil, try q.optionalString("deadline") != nil {
                throw VarlinkError.invalidParameter(
                    "deadline",
                    because: "give the escalation's number or the 'deadline' it is for, not both (they may name different escalations)")
            }
            if let number = try q.optionalInt("escalation") {
                // Escalations are numbered from 1: anything less names none, whatever the operation.
                guard number >= 1 else {
                    throw VarlinkError.invalidParameter(
                        "escalation", because: "escalations are numbered from 1 (as Show lists them), not \(number)")
                }
                command = .acknowledge(.escalation(number))
            } else if let deadline = try q.optionalString("deadline") {
                command = .acknowledge(.deadline(deadline))
            } else {
                throw VarlinkError.invalidParameter("escalation", because: "give the escalation's number, or the 'deadline' it is for")
            }
        case "Note":
            q = try params(["text"])
            command = .note(try q.string("text"))
        case "SetAttributes":
            q = try params(["attributes"])
            let attributes = try q.stringMap("attributes")
            guard !attributes.isEmpty else {
                throw VarlinkError.invalidParameter(
                    "attributes", because: "'attributes' is required: give at least one attribute to change, e.g. weapon_involved: \"true\""
                )
            }
            command = .setAttributes(attributes)
        case "Cancel":
            q = try params(["reason"])
            command = .cancel(reason: try q.string("reason"))
        case "Close":
            q = try params(["disposition"])
            command = .close(disposition: try q.string("disposition"))
        default:
            throw Self.notFound(call)
        }
        return (command, try q.string("id"), try RequestID.of(q))
    }
}
