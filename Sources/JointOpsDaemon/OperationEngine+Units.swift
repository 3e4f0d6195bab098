import JointOpsCore
import JointOpsProtocol
import JointOpsStore
import Logging

/// The roster changes one command made, reserved before its commit's await: what to write
/// with it, and what to put back if the commit fails.
struct UnitWork {
    /// Units changed, in the order first touched.
    private(set) var touched: [String] = []
    /// Each touched unit as it was before the command.
    private(set) var before: [String: JointOpsCore.Unit] = [:]
    /// Whether awaiting branches may be filled after the command: a unit became free or
    /// usable (released or set available, added, its capabilities or home changed), or a
    /// waiting branch eligible (its operation resumed or reassigned, a branch left short by
    /// a preemption). Then a fill pass runs, and one under way starts over. Ordinary
    /// commands (notes, advances that release nothing) leave it false: no pass for them.
    var mayFill = false

    /// A unit the command added (a roster cannot forget a unit: a failed add is undone by
    /// retiring it in memory; the store never saw it, so a restart forgets it).
    mutating func noteAdded(_ id: String) {
        guard added.insert(id).inserted, before[id] == nil else { return }
        touched.append(id)
    }

    /// Units the command added.
    private var added: Set<String> = []

    mutating func touch(_ unit: JointOpsCore.Unit?) {
        guard let unit, before[unit.id] == nil, !added.contains(unit.id) else { return }
        before[unit.id] = unit
        touched.append(unit.id)
    }
}

/// Units an operator names for a dispatch (Reinforce) instead of selection, and why.
public struct NamedUnits: Sendable {
    public var ids: [String]
    public var reason: String

    public init(ids: [String], reason: String) {
        self.ids = ids
        self.reason = reason
    }
}

extension OperationEngine {
    /// Refuses a region the jurisdiction does not have, with the closest ids.
    func checkRegion(_ region: String, parameter: String) throws(VarlinkError) {
        guard let tree = roster?.tree, !tree.contains(region) else { return }
        throw VarlinkError.invalidParameter(parameter, because: tree.unknownRegionMessage(region))
    }

    /// Carries out a transition's unit effects against the roster — steps that move units
    /// (`unit_status`), dispatches (selection), branch ends (release) — and records what
    /// happened as the operation's own unit events, in the same transition.
    func dispatchUnits(
        _ state: inout OperationState, _ transition: inout Transition, _ work: inout UnitWork, named: NamedUnits? = nil
    ) throws(VarlinkError) {
        var named = named
        guard roster != nil else {
            if named != nil { _ = try requireRoster() }
            return
        }
        let actor = transition.events.first?.actor
        var events: [OperationEvent] = []
        for record in transition.events {
            switch record.event {
            case .resumed, .regionReassigned:
                // The fill skips held operations, and a reassigned branch awaits in its new region.
                if state.branches.contains(where: \.isAwaitingUnits) { work.mayFill = true }
                continue
            default:
                break
            }
            guard case .stepEntered(let index, let step, _) = record.event, let status = state.unitStatus(entering: step, of: index) else {
                continue
            }
            let units = state.branches[index].assignedUnits
            if status == .returning {
                for unit in units { work.touch(roster!.unit(unit)) }
                let released = (try? roster!.release(units, to: .returning)) ?? []
                if !released.isEmpty { events.append(.unitsReleased(instance: index, units: released.map(\.unit), status: .returning)) }
                continue
            }
            for unit in units {
                let before = roster!.unit(unit)
                do {
                    _ = try roster!.setStatus(unit, to: status)
                    work.touch(before)
                } catch {
                    logger.debug("\(state.id): unit \(unit) stays \(before?.status.rawValue ?? "?"): \(error.message)")
                }
            }
        }
        for effect in transition.effects {
            switch effect {
            case .dispatchUnits(let name, _, let region, let count, let capabilities):
                guard let index = state.instance(named: name) else { continue }
                let kind = state.workflow.branches[state.branches[index].definition].kind
                var need = count
                if let chosen = named {
                    // The operator's units instead of selection; if fewer, the rest is selected.
                    named = nil
                    try checkNamed(chosen.ids, kind: kind)
                    try checkCapabilities(chosen.ids, required: capabilities, kind: kind, instance: name, of: state.id)
                    for id in chosen.ids { work.touch(roster!.unit(id)) }
                    do {
                        _ = try roster!.assign(chosen.ids, to: UnitAssignment(operation: state.id, instance: index))
                    } catch {
                        throw refusedNamingBranches(error)
                    }
                    events.append(
                        .unitsAssigned(instance: index, units: chosen.ids, reasons: chosen.ids.map { _ in "named: \(chosen.reason)" }))
                    need -= chosen.ids.count
                    guard need > 0 else { continue }
                }
                let request = UnitRequest(kind: kind, count: need, capabilities: Set(capabilities), region: region)
                guard let selection = try? UnitSelector.select(request, in: roster!, excluding: unitsChanging) else {
                    events.append(.unitsAwaited(instance: index, missing: need, capabilities: capabilities))
                    continue
                }
                if !selection.chosen.isEmpty {
                    for id in selection.unitIDs { work.touch(roster!.unit(id)) }
                    do {
                        _ = try roster!.assign(selection.unitIDs, to: UnitAssignment(operation: state.id, instance: index))
                        events.append(.unitsAssigned(instance: index, units: selection.unitIDs, reasons: selection.chosen.map(\.reason)))
                    } catch {
                        preconditionFailure("selection chose a unit the roster refuses: \(error.message)")
                    }
                }
                if selection.shortfall > 0 {
                    events.append(.unitsAwaited(instance: index, missing: selection.shortfall, capabilities: capabilities))
                }
            case .releaseUnits(let name):
                guard let index = state.instance(named: name) else { continue }
                let release = state.workflow.branches[state.branches[index].definition].release
                let assignment = UnitAssignment(operation: state.id, instance: index)
                for unit in roster!.units(committedTo: assignment) { work.touch(unit) }
                let released = roster!.release(assignment: assignment, to: release)
                if !released.isEmpty {
                    events.append(.unitsReleased(instance: index, units: released.map(\.unit), status: release.status))
                    if release == .available { work.mayFill = true }
                }
            default:
                continue
            }
        }
        guard !events.isEmpty else { return }
        let recorded = state.recordUnits(events, at: transition.events.last?.at ?? eventTime(for: state), actor: actor)
        transition.events += recorded.events
        transition.effects += recorded.effects
    }

    /// Refuses named units of another branch kind (a traffic unit cannot be a SWAT team).
    func checkNamed(_ ids: [String], kind: BranchDefinition.Kind) throws(VarlinkError) {
        for id in ids {
            guard let unit = roster?.unit(id), unit.kind != kind else { continue }
            throw Self.refused(
                UnitRefusal(
                    .invalidArgument, unit: id,
                    "unit '\(id)' serves \(unit.kind.rawValue), not \(kind.rawValue); name \(kind.rawValue) units for this branch"))
        }
    }

    /// Refuses a unit without every capability a branch instance requires (`armed` for
    /// SWAT, a dispatch's `negotiator`, …), saying how to find one that has them.
    func checkCapabilities(
        _ ids: [String], required: [String], kind: BranchDefinition.Kind, instance: String, of operation: String
    ) throws(VarlinkError) {
        for id in ids {
            guard let unit = roster?.unit(id) else { continue }
            let missing = required.filter { !unit.capabilities.contains($0) }
            guard let first = missing.first else { continue }
            throw Self.refused(
                UnitRefusal(
                    .missingCapability, unit: id,
                    "unit '\(id)' lacks \(missing.joined(separator: ", ")), which every unit of branch \(instance) of \(operation) must have (\(required.joined(separator: ", "))); name a unit that has \(missing.count == 1 ? "it" : "them") — `jointopsctl units --branch \(kind.rawValue) --capability \(first) --status available` lists the free ones"
                ))
        }
    }

    /// Puts back the units a failed commit had reserved or released — those that still stand
    /// as the command left them (`left`); one another command changed since stays as it is.
    func undo(_ work: UnitWork, left: [String: JointOpsCore.Unit] = [:]) {
        guard roster != nil else { return }
        for id in work.touched.reversed() {
            if let expected = left[id], roster!.unit(id) != expected {
                logger.warning(
                    "unit \(id) changed again before a failed commit was undone; it stays \(roster!.unit(id)?.status.rawValue ?? "?")")
                continue
            }
            if let unit = work.before[id] {
                roster!.restore(unit)
            } else {
                roster!.forget(id)  // added by the failed command: as if never added
            }
        }
    }

    /// Fills awaiting branches soon, outside the command or reload that may let them be
    /// filled; a pass under way starts over.
    func awaitingMayBeFilled() {
        fillGeneration += 1
        scheduleFill()
    }

    /// Fills awaiting branches soon, outside the command that freed units.
    func scheduleFill() {
        if filling {
            fillAgain = true
        } else {
            Task { await self.fillAwaiting() }
        }
    }

    /// Gives free units to branches awaiting them: higher priority first (P1 before P4,
    /// none last), then the earliest dispatched. Each fill is a command of its own. One pass
    /// runs at a time, and it starts over whenever units are freed (or a branch becomes
    /// eligible) meanwhile, so a unit freed during a pass goes to the highest-priority
    /// branch that can use it. Held operations are skipped: resuming one runs a pass.
    public func fillAwaiting() async {
        guard roster != nil else { return }
        guard !filling else {
            fillAgain = true
            return
        }
        filling = true
        defer { filling = false }
        repeat {
            fillAgain = false
            keptOff = keptOff.filter { roster!.unit($0.key) == $0.value.unit }
            let generation = fillGeneration
            var waiting: [(priority: Int, dispatched: Instant, operation: String, instance: Int)] = []
            for state in operations.values {
                for (index, instance) in state.branches.enumerated() where instance.isAwaitingUnits {
                    waiting.append((state.priorityLevel ?? 9, instance.dispatchedAt, state.id, index))
                }
            }
            waiting.sort {
                ($0.priority, $0.dispatched, $0.operation, $0.instance) < ($1.priority, $1.dispatched, $1.operation, $1.instance)
            }
            for candidate in waiting {
                await acquire(candidate.operation)
                guard fillGeneration == generation else {
                    release(candidate.operation)
                    fillAgain = true
                    break
                }
                await fill(candidate.operation, instance: candidate.instance)
                release(candidate.operation)
            }
        } while fillAgain
    }

    private func fill(_ id: String, instance index: Int) async {
        guard let before = operations[id], index < before.branches.count, before.branches[index].isAwaitingUnits, before.hold == nil
        else { return }
        let instance = before.branches[index]
        let definition = before.workflow.branches[instance.definition]
        let assignment = UnitAssignment(operation: id, instance: index)
        // Units an operator took off this branch are not handed back: selected, then left out.
        let kept = keptOff.filter { $0.value.assignment == assignment && roster!.unit($0.key) == $0.value.unit }.map(\.key)
        let request = UnitRequest(
            kind: definition.kind, count: instance.missingUnits + kept.count, capabilities: Set(before.requiredCapabilities(of: index)),
            region: instance.region)
        guard let selection = try? UnitSelector.select(request, in: roster!, excluding: unitsChanging) else { return }
        let chosen = Array(selection.chosen.filter { !kept.contains($0.unit) }.prefix(instance.missingUnits))
        guard !chosen.isEmpty else { return }
        let ids = chosen.map(\.unit)
        var work = UnitWork()
        for unit in ids { work.touch(roster!.unit(unit)) }
        do {
            _ = try roster!.assign(ids, to: assignment)
        } catch {
            logger.error("\(id): filling \(instance.name) failed: \(error.message)")
            return
        }
        var state = before
        let transition = state.recordUnits(
            [.unitsAssigned(instance: index, units: ids, reasons: chosen.map { "freed: \($0.reason)" })],
            at: eventTime(for: before), actor: nil)
        do {
            try await commit([(state, before, transition)], reply: .null, requestID: nil, method: "units", units: work)
        } catch {
            // A storage fault is journalled by StoreFaultLog (first failure, then every 30 s) and
            // the pass tried again (`fillAgainLater`): under a full disk every fill would say it.
            logger.log(
                level: error.isStorageFailure ? .debug : .error,
                "\(id): filling \(instance.name) was not stored: \(error.parameters["message"]?.stringValue ?? "\(error)")")
        }
    }
}
