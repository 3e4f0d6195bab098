import JointOpsCore
import JointOpsProtocol
import JointOpsStore
import Logging

/// io.jointops.Units: the roster and the jurisdiction, read and changed by operators.
/// A change is reserved in the roster before its commit's await and put back if the commit
/// fails, so concurrent commands never see a unit twice.
extension OperationEngine {
    func requireRoster() throws(VarlinkError) -> UnitRoster {
        guard let roster else {
            throw VarlinkError(
                "io.jointops.Units.RegionsNotConfigured", ["path": .string(regionsPath ?? DaemonConfiguration.defaultRegionsFile)])
        }
        return roster
    }

    static func refused(_ refusal: UnitRefusal) -> VarlinkError {
        if refusal.code == .reasonRequired { return VarlinkError.invalidParameter("reason", because: refusal.message) }
        return VarlinkError(
            "io.jointops.Units.UnitRefused",
            [
                "code": .string(refusal.code.rawValue), "unit": refusal.unit.map(JSONValue.string) ?? .null,
                "reason": .string(refusal.message),
            ])
    }

    /// A roster refusal with each branch instance it mentions by name ("operation OP-1
    /// branch swat#2"): the roster knows instances by number only.
    func refusedNamingBranches(_ refusal: UnitRefusal) -> VarlinkError {
        var refusal = refusal
        for (id, state) in operations where refusal.message.contains("operation \(id) branch instance ") {
            // Highest first: instance 1 must not match the start of instance 10.
            for (index, instance) in state.branches.enumerated().reversed() {
                refusal.message = refusal.message.replacingOccurrences(
                    of: UnitAssignment(operation: id, instance: index).description, with: "operation \(id) branch \(instance.name)")
            }
        }
        return Self.refused(refusal)
    }

    /// Why an operation a unit command names is not open: it has ended (closed or cancelled,
    /// when, and why: `CommandRefused` as for any command to it), or there is no such one.
    func notOpen(_ id: String, _ consequence: String) -> VarlinkError {
        guard let ended = (try? store.operation(id)) ?? nil else {
            return VarlinkError("io.jointops.Operations.OperationNotFound", ["id": .string(id)])
        }
        let at = (try? store.endedAt(id)) ?? nil
        return VarlinkError(
            "io.jointops.Operations.CommandRefused",
            [
                "code": .string(Refusal.Code.operationEnded.rawValue),
                "reason": .string(
                    "operation \(id) has ended: \(ended.phaseName)\(at.map { " at \($0)" } ?? "")\(ended.ending.map { " (\($0))" } ?? ""); \(consequence)"
                ),
                "phase": .string(ended.phaseName), "allowed": .array([]),
            ])
    }

    /// Refuses a command on a unit the roster has committed to a branch instance its operation
    /// does not have — a state no command should leave (see `UnitsInFlight`), said and
    /// journalled rather than crashing on it.
    func unknownInstance(_ id: String, _ assignment: UnitAssignment) -> VarlinkError {
        let message =
            "unit '\(id)' is committed in memory to branch instance \(assignment.instance + 1) of \(assignment.operation), which it does not have; the roster in memory disagrees with the store, so nothing was done: restart jointopsd (systemctl restart jointopsd), which reads the roster back from the store"
        logger.error("\(message)")
        return Self.refused(UnitRefusal(.notAvailable, unit: id, message))
    }

    /// A unit as the socket shows it, with the name of the branch instance it serves.
    func view(_ unit: JointOpsCore.Unit) -> JSONValue {
        Views.unit(unit, instance: unit.assignment.flatMap(instanceName))
    }

    /// The name of the branch instance an assignment is to, when the operation has it yet:
    /// a dispatch commits its units to the roster before its operation's change is in
    /// `operations` (a new instance is not there until its commit returns).
    func instanceName(_ assignment: UnitAssignment) -> String? {
        operations[assignment.operation].flatMap {
            $0.branches.indices.contains(assignment.instance) ? $0.branches[assignment.instance].name : nil
        }
    }

    // MARK: Reads

    public func units(
        region: String?, branch: String?, status: String?, capability: String?, includeRetired: Bool
    ) throws(VarlinkError) -> JSONValue {
        let roster = try requireRoster()
        if let region { try checkRegion(region, parameter: "region") }
        if let branch, BranchDefinition.Kind(rawValue: branch) == nil {
            throw VarlinkError.invalidParameter(
                "branch",
                because:
                    "'\(branch)' is not a branch kind; use one of \(BranchDefinition.Kind.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        if let status, UnitStatus(rawValue: status) == nil {
            throw VarlinkError.invalidParameter(
                "status",
                because: "'\(status)' is not a unit status; use one of \(UnitStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        // A capability no unit has is a typo far more often than a question (`armedd`).
        if let capability {
            let known = Set(roster.units.flatMap(\.capabilities))
            if !known.contains(capability) {
                throw VarlinkError.invalidParameter(
                    "capability",
                    because: "no unit has capability '\(capability)'"
                        + Suggestions.hint(for: capability, in: known.sorted(), noun: "the roster's capabilities are"))
            }
        }
        let matching = roster.units.filter { unit in
            (includeRetired || !unit.retired) && region.map { roster.tree.isWithin(unit.homeRegion, $0) } ?? true
                && branch.map { unit.kind.rawValue == $0 } ?? true && status.map { unit.status.rawValue == $0 } ?? true
                && capability.map { unit.capabilities.contains($0) } ?? true
        }
        return .object(["units": .array(matching.sorted { $0.id < $1.id }.map(view))])
    }

    public func regions() throws(VarlinkError) -> JSONValue {
        let roster = try requireRoster()
        let tree = roster.tree
        var free = [Int](repeating: 0, count: tree.count)
        for unit in roster.units where unit.isSelectable {
            if let node = tree.node(unit.homeRegion) { free[node.order] += 1 }
        }
        // Sub-tree sums: nodes are in depth-first order, so a suffix pass adds children to parents.
        var within = free
        for order in stride(from: tree.count - 1, through: 1, by: -1) {
            if let parent = tree.node(at: order).parent, let node = tree.node(parent) { within[node.order] += within[order] }
        }
        var operationsByRegion: [String: [String]] = [:]
        for state in operations.values.sorted(by: { $0.id < $1.id }) {
            var regions: Set<String> = [state.region]
            for instance in state.branches where instance.status == .active { regions.insert(instance.region) }
            for region in regions { operationsByRegion[region, default: []].append(state.id) }
        }
        let rows: [JSONValue] = (0..<tree.count).map { order in
            let node = tree.node(at: order)
            return .object([
                "id": .string(node.id), "name": .string(node.name.description), "level": .string(node.level.rawValue),
                "parent": Views.optional(node.parent), "depth": .int(Int64(node.depth)),
                "operations": .array((operationsByRegion[node.id] ?? []).map(JSONValue.string)), "freeUnits": .int(Int64(free[order])),
                "freeUnitsWithin": .int(Int64(within[order])),
            ])
        }
        return .object(["regions": .array(rows)])
    }

    // MARK: Roster changes

    /// Applies `body` to the roster and logs its changes in the `@units` stream; a refusal or
    /// a failed commit leaves the roster as it was.
    private func changeRoster(
        caller: Caller, method: String, requestID: RequestID?, _ ids: [String], reply: () -> JSONValue,
        _ body: (inout UnitRoster) throws(UnitRefusal) -> [UnitChange]
    ) async throws(VarlinkError) -> JSONValue {
        await settle(ids)
        var candidate = try requireRoster()
        var work = UnitWork()
        for id in ids { work.touch(candidate.unit(id)) }
        let changes: [UnitChange]
        do { changes = try body(&candidate) } catch { throw refusedNamingBranches(error) }
        for change in changes where work.before[change.unit] == nil { work.noteAdded(change.unit) }
        roster = candidate
        let now = clock()
        let records = changes.map { RosterChange.Record(at: now, actor: caller.actor, change: $0) }
        work.mayFill = changes.contains { change in
            switch change {
            case .added: true
            case .statusChanged(_, _, let to, _), .released(_, _, let to): to == .available
            // New capabilities or another home may make a free unit fit a waiting branch.
            case .edited(_, let after): after.isSelectable
            default: false
            }
        }
        let answer = reply()
        try await commit([], reply: answer, requestID: requestID, method: method, units: work, roster: records)
        return answer
    }

    /// The reply an earlier call with this request id got (a retry applies nothing again),
    /// or nil (a call with the same id still in flight was waited for: `holdRequest`).
    private func earlier(_ requestID: RequestID?, _ method: String) throws(VarlinkError) -> JSONValue? {
        guard let requestID else { return nil }
        return try previousReply(requestID, method: method)
    }

    public func addUnit(_ unit: JointOpsCore.Unit, caller: Caller, requestID: RequestID? = nil) async throws(VarlinkError) -> JSONValue {
        await holdRequest(requestID)
        defer { releaseRequest(requestID) }
        if let answer = try earlier(requestID, "Units.Add") { return answer }
        // As for Start's region (and the home regions of an imported roster): an unknown region is
        // a parameter to correct (exit 64), not a refusal of the roster's state.
        try checkRegion(unit.homeRegion, parameter: "homeRegion")
        return try await changeRoster(
            caller: caller, method: "Units.Add", requestID: requestID, [], reply: { .object(["unit": view(roster!.unit(unit.id)!)]) }
        ) { roster throws(UnitRefusal) in [try roster.add(unit)] }
    }

    public func changeUnit(
        _ id: String, callSign: String?, homeRegion: String?, capabilities: Set<String>?, caller: Caller, requestID: RequestID? = nil
    ) async throws(VarlinkError) -> JSONValue {
        await holdRequest(requestID)
        defer { releaseRequest(requestID) }
        if let answer = try earlier(requestID, "Units.Change") { return answer }
        if let homeRegion { try checkRegion(homeRegion, parameter: "homeRegion") }
        return try await changeRoster(
            caller: caller, method: "Units.Change", requestID: requestID, [id], reply: { .object(["unit": view(roster!.unit(id)!)]) }
        ) { roster throws(UnitRefusal) in
            [try roster.change(id, callSign: callSign, capabilities: capabilities, homeRegion: homeRegion)]
        }
    }

    public func retireUnit(_ id: String, caller: Caller, requestID: RequestID? = nil) async throws(VarlinkError) -> JSONValue {
        await holdRequest(requestID)
        defer { releaseRequest(requestID) }
        if let answer = try earlier(requestID, "Units.Retire") { return answer }
        return try await changeRoster(
            caller: caller, method: "Units.Retire", requestID: requestID, [id], reply: { .object(["unit": view(roster!.unit(id)!)]) }
        ) { roster throws(UnitRefusal) in [try roster.retire(id)] }
    }

    public func importUnits(
        text: String, format: String, file: String, caller: Caller, requestID: RequestID? = nil
    ) async throws(VarlinkError) -> JSONValue {
        await holdRequest(requestID)
        defer { releaseRequest(requestID) }
        if let answer = try earlier(requestID, "Units.Import") { return answer }
        let tree = try requireRoster().tree
        guard format == "yaml" || format == "csv" else {
            throw VarlinkError.invalidParameter("format", because: "'\(format)' is not a roster format; use yaml or csv")
        }
        let parsed: (units: [JointOpsCore.Unit], locations: [SourceLocation])
        do { parsed = try UnitsSetup.parse(text, file: file, csv: format == "csv", tree: tree) } catch {
            throw VarlinkError.invalidParameter("text", because: error.description)
        }
        return try await changeRoster(
            caller: caller, method: "Units.Import", requestID: requestID, [],
            reply: { .object(["added": .array(parsed.units.map { .string($0.id) })]) }
        ) { roster throws(UnitRefusal) in
            // All or none: every unit the roster refuses, each at its line in the file.
            var changes: [UnitChange] = []
            var problems: [UnitRefusal] = []
            for (unit, location) in zip(parsed.units, parsed.locations) {
                do throws(UnitRefusal) { changes.append(try roster.add(unit)) } catch {
                    problems.append(UnitRefusal(error.code, unit: error.unit, "\(location): \(error.message)"))
                }
            }
            guard let first = problems.first else { return changes }
            let lines = problems.map(\.message)
            throw UnitRefusal(
                first.code, unit: first.unit,
                lines.count == 1
                    ? "\(lines[0]); nothing was imported" : "nothing was imported:\n" + lines.map { "  \($0)" }.joined(separator: "\n"))
        }
    }

    /// Sets a unit's status; releasing a committed unit (returning, available) is recorded in
    /// its operation, in the same transaction.
    public func setUnitStatus(
        _ id: String, to status: UnitStatus, reason: String?, caller: Caller, requestID: RequestID? = nil
    ) async throws(VarlinkError)
        -> JSONValue
    {
        let method = "Units.SetStatus"
        await holdRequest(requestID)
        defer { releaseRequest(requestID) }
        if let answer = try earlier(requestID, method) { return answer }
        // A unit serving an operation is released in that operation, under its lock. While
        // this waits for the lock the unit may be released and given to another operation:
        // then it is that one's lock it needs, so look again until the unit holds still. Each
        // look is made with the unit settled (no commit in flight changing it), and nothing
        // awaits between a look and the change it decides (`changeRoster`'s settle then finds
        // the unit settled and does not wait).
        while true {
            await settle([id])
            guard !status.isCommitted, let operation = try requireRoster().unit(id)?.assignment?.operation else { break }
            await acquire(operation)
            defer { release(operation) }
            await settle([id])
            if let answer = try earlier(requestID, method) { return answer }
            guard let assignment = roster?.unit(id)?.assignment, assignment.operation == operation else { continue }
            guard let before = operations[operation] else { break }  // (an ended operation: an ordinary status change)
            return try await takeOff(
                id, from: before, assignment: assignment, to: status, reason: reason, caller: caller, requestID: requestID, method: method)
        }
        return try await changeRoster(
            caller: caller, method: method, requestID: requestID, [id], reply: { .object(["unit": view(roster!.unit(id)!)]) }
        ) { roster throws(UnitRefusal) in
            [try roster.setStatus(id, to: status, reason: reason)]
        }
    }

    /// Takes a unit off the live branch it serves (its operation's lock held), recorded in
    /// that operation, with the reason, and the roster in one transaction. The branch then
    /// awaits a replacement as after a preemption; a unit set available is not handed back
    /// to it by the fill while it stays as it was left (`keptOff`).
    private func takeOff(
        _ id: String, from before: OperationState, assignment: UnitAssignment, to status: UnitStatus, reason: String?, caller: Caller,
        requestID: RequestID?, method: String
    ) async throws(VarlinkError) -> JSONValue {
        let operation = before.id
        guard before.branches.indices.contains(assignment.instance) else { throw unknownInstance(id, assignment) }
        if let unit = roster!.unit(id), !unit.status.canMove(to: status) {
            // Only out_of_service: a unit serving a branch goes there by way of returning.
            throw Self.refused(
                UnitRefusal(
                    .illegalTransition, unit: id,
                    "unit '\(id)' cannot go from \(unit.status.rawValue) to \(status.rawValue) while it serves \(operation) (branch \(before.branches[assignment.instance].name)); release it first with `jointopsctl units status \(id) returning \"REASON\"` — the branch then awaits a replacement — and then set it \(status.rawValue)"
                ))
        }
        // Taking a unit off a live branch weakens it: one mistyped unit id at 3 a.m. must not
        // do that unnoticed, so it takes a reason (recorded with the release).
        guard let reason, !reason.isBlank else {
            let branch = before.branches[assignment.instance]
            throw VarlinkError.invalidParameter(
                "reason",
                because:
                    "unit '\(id)' serves \(operation) (branch \(branch.name), \(branch.status.rawValue)); setting it \(status.rawValue) takes it off that branch, which then awaits a replacement — give the reason (it is recorded), or check the unit id"
            )
        }
        var work = UnitWork()
        work.touch(roster!.unit(id))
        do { _ = try roster!.setStatus(id, to: status, reason: reason) } catch { throw refusedNamingBranches(error) }
        var events: [OperationEvent] = [.unitsReleased(instance: assignment.instance, units: [id], status: status, reason: reason)]
        if let awaited = before.awaitingAfterLosing(1, of: assignment.instance) { events.append(awaited) }
        work.mayFill = status == .available || events.count > 1
        if status == .available { keptOff[id] = (assignment, roster!.unit(id)!) }
        var state = before
        let transition = state.recordUnits(events, at: eventTime(for: before), actor: caller.actor)
        let answer = JSONValue.object(["unit": view(roster!.unit(id)!)])
        try await commit([(state, before, transition)], reply: answer, requestID: requestID, method: method, units: work)
        return answer
    }

    /// Commits units an operator names to an active branch instance that awaits units: at
    /// most as many as it awaits, each with the capabilities it requires.
    public func assignUnits(
        _ ids: [String], to operation: String, instance name: String, reason: String, caller: Caller, requestID: RequestID? = nil
    ) async throws(VarlinkError) -> JSONValue {
        await holdRequest(requestID)
        defer { releaseRequest(requestID) }
        if let answer = try earlier(requestID, "Units.Assign") { return answer }
        _ = try requireRoster()
        guard !reason.isBlank else { throw VarlinkError.invalidParameter("reason", because: "say why these units (it is recorded)") }
        await acquire(operation)
        defer { release(operation) }
        await settle(ids)
        if let answer = try earlier(requestID, "Units.Assign") { return answer }
        guard let before = operations[operation] else {
            throw notOpen(operation, "units can no longer be assigned to it")
        }
        let index = try activeInstance(name, of: before, parameter: "instance")
        try checkNamed(ids, kind: before.workflow.branches[before.branches[index].definition].kind)
        try checkShort(index, of: before, taking: ids)
        try checkCapabilities(
            ids, required: before.requiredCapabilities(of: index), kind: before.workflow.branches[before.branches[index].definition].kind,
            instance: before.branches[index].name, of: operation)
        var work = UnitWork()
        for id in ids { work.touch(roster!.unit(id)) }
        do { _ = try roster!.assign(ids, to: UnitAssignment(operation: operation, instance: index)) } catch {
            throw refusedNamingBranches(error)
        }
        var state = before
        let transition = state.recordUnits(
            [.unitsAssigned(instance: index, units: ids, reasons: ids.map { _ in "named by \(caller.name): \(reason)" })],
            at: eventTime(for: before),
            actor: caller.actor)
        let answer = JSONValue.object(["units": .array(ids.compactMap { roster!.unit($0) }.map(view))])
        try await commit([(state, before, transition)], reply: answer, requestID: requestID, method: "Units.Assign", units: work)
        return answer
    }

    /// Takes a committed unit for a higher-priority operation; the one that loses it records
    /// the loss and escalates.
    public func preempt(
        _ id: String, for operation: String, instance name: String, reason: String, caller: Caller, requestID: RequestID? = nil
    ) async throws(VarlinkError) -> JSONValue {
        await holdRequest(requestID)
        defer { releaseRequest(requestID) }
        if let answer = try earlier(requestID, "Units.Preempt") { return answer }
        guard !reason.isBlank else {
            throw VarlinkError.invalidParameter("reason", because: "preempting takes a unit from another operation: say why")
        }
        guard let from = try requireRoster().unit(id)?.assignment?.operation else {
            // Unknown or not committed: the roster explains.
            do { _ = try roster!.preempt(id, to: UnitAssignment(operation: operation, instance: 0), reason: reason) } catch {
                throw refusedNamingBranches(error)
            }
            preconditionFailure("the roster preempted unit '\(id)', which is not committed")
        }
        guard from != operation else {
            let serves = try requireRoster().unit(id)?.assignment.flatMap(instanceName)
            throw Self.refused(
                UnitRefusal(
                    .invalidArgument, unit: id,
                    "unit '\(id)' already serves \(operation)\(serves.map { " (branch \($0))" } ?? ""); preempting takes a unit from another operation — to move it to another branch of this one, release it there first (set it available, with a reason), then assign it"
                ))
        }
        // Both operations, in id order (no deadlock with another preemption the other way).
        let locks = [from, operation].sorted()
        for lock in locks { await acquire(lock) }
        defer { for lock in locks { release(lock) } }
        await settle([id])
        if let answer = try earlier(requestID, "Units.Preempt") { return answer }
        guard let loser = operations[from], let winner = operations[operation] else {
            throw notOpen(operations[operation] == nil ? operation : from, "it can no longer take units")
        }
        guard let current = roster!.unit(id)?.assignment, current.operation == from else {
            throw Self.refused(UnitRefusal(.notAvailable, unit: id, "unit '\(id)' was released meanwhile; assign it instead"))
        }
        guard loser.branches.indices.contains(current.instance) else { throw unknownInstance(id, current) }
        let index = try activeInstance(name, of: winner, parameter: "instance")
        // The same rules as Assign and named Reinforce units: a SWAT team cannot serve traffic,
        // an unarmed one an armed-only branch.
        let kind = winner.workflow.branches[winner.branches[index].definition].kind
        try checkNamed([id], kind: kind)
        try checkCapabilities(
            [id], required: winner.requiredCapabilities(of: index), kind: kind, instance: winner.branches[index].name, of: operation)
        let winnerLevel = winner.priorityLevel ?? 9
        let loserLevel = loser.priorityLevel ?? 9
        guard winnerLevel < loserLevel else {
            throw VarlinkError(
                "io.jointops.Units.UnitRefused",
                [
                    "code": .string("lower_priority"), "unit": .string(id),
                    "reason": .string(
                        "\(operation) (\(Views.priority(winner) ?? "no priority")) does not outrank \(from) (\(Views.priority(loser) ?? "no priority")), which unit '\(id)' serves; only a higher-priority operation may take a unit"
                    ),
                ])
        }
        // Only for a branch short of units: taking one from another operation to over-staff
        // a branch leaves that operation short for nothing.
        try checkShort(index, of: winner, taking: [id])
        var work = UnitWork()
        work.touch(roster!.unit(id))
        // The branch that loses the unit awaits what it then lacks, and a replacement may be free.
        let awaited = loser.awaitingAfterLosing(1, of: current.instance)
        work.mayFill = awaited != nil
        do { _ = try roster!.preempt(id, to: UnitAssignment(operation: operation, instance: index), reason: reason) } catch {
            throw refusedNamingBranches(error)
        }
        var lost = loser
        let lostTransition = lost.recordUnits(
            [.unitPreempted(instance: current.instance, unit: id, by: "\(operation) \(winner.branches[index].name)", reason: reason)]
                + (awaited.map { [$0] } ?? []),
            at: eventTime(for: loser), actor: caller.actor)
        var gained = winner
        let gainedTransition = gained.recordUnits(
            [.unitsAssigned(instance: index, units: [id], reasons: ["preempted from \(from) by \(caller.name): \(reason)"])],
            at: eventTime(for: winner),
            actor: caller.actor)
        let answer = JSONValue.object(["unit": view(roster!.unit(id)!)])
        try await commit(
            [(gained, winner, gainedTransition), (lost, loser, lostTransition)], reply: answer, requestID: requestID,
            method: "Units.Preempt", units: work)
        return answer
    }

    /// Refuses units for a branch instance that awaits none, or more units than it awaits: a
    /// full branch grows by a reinforcement, a branch instance with its own steps and
    /// deadlines.
    private func checkShort(_ index: Int, of state: OperationState, taking ids: [String]) throws(VarlinkError) {
        let instance = state.branches[index]
        let awaited = instance.isAwaitingUnits ? instance.missingUnits : 0
        guard ids.count > awaited else { return }
        let branch = state.workflow.branches[instance.definition].name
        let more =
            "to send more, add a branch instance with `jointopsctl reinforce \(state.id) \(branch)` (name its units with --unit UNIT --why REASON)"
        let has = "it has \(instance.assignedUnits.count) of \(instance.units)"
        let message =
            awaited == 0
            ? "branch \(instance.name) of \(state.id) is not short of units: \(has); \(more)"
            : "branch \(instance.name) of \(state.id) awaits \(awaited) unit\(awaited == 1 ? "" : "s") (\(has)), not \(ids.count); name at most \(awaited), or \(more)"
        throw Self.refused(UnitRefusal(.notShort, unit: ids.count == 1 ? ids[0] : nil, message))
    }

    private func activeInstance(_ name: String, of state: OperationState, parameter: String) throws(VarlinkError) -> Int {
        guard let index = state.instance(named: name) else {
            let names = state.branches.map(\.name)
            throw VarlinkError.invalidParameter(
                parameter,
                because:
                    "operation \(state.id) has no branch instance '\(name)'\(names.isEmpty ? "" : "; it has \(names.joined(separator: ", "))")"
            )
        }
        guard state.branches[index].status == .active else {
            throw VarlinkError.invalidParameter(parameter, because: "branch instance '\(name)' of \(state.id) has ended")
        }
        return index
    }
}
