/// Evolve: how each event changes the state. The only code that mutates an operation, used
/// both live and by replay; timers and escalations follow deterministically from events.
extension OperationState {
    /// Rebuilds an operation from its events, first to last.
    public static func replay(_ workflow: Workflow, _ events: [RecordedEvent]) -> OperationState? {
        guard let first = events.first, case .started(let id, _, _, let region, let attributes) = first.event else {
            return nil
        }
        var state = OperationState(id: id, workflow: workflow, region: region, attributes: attributes, at: first.at)
        for event in events { state.apply(event) }
        return state
    }

    public mutating func apply(_ record: RecordedEvent) {
        let at = record.at
        sequence += 1
        lastChangeAt = at
        switch record.event {
        case .started:
            reachMoment(.started, instance: nil, at: at)
        case .phaseEntered(let target, _):
            enterPhase(.phase(target), at: at)
        case .branchDispatched(let branch, let region, let units, _, let capabilities):
            let definition = workflow.branches[branch]
            let ordinal = branches.count { $0.definition == branch } + 1
            var instance = BranchInstance(
                name: ordinal == 1 ? definition.name : "\(definition.name)#\(ordinal)", definition: branch,
                step: definition.initialStep, status: .active, region: region, units: units, dispatchedAt: at,
                stepEnteredAt: Array(repeating: nil, count: definition.steps.count), outcome: nil)
            instance.stepEnteredAt[definition.initialStep] = at
            if !capabilities.isEmpty { instance.requiredCapabilities = Self.merged(definition.capabilities, capabilities) }
            branches.append(instance)
            reachStep(definition.initialStep, instance: branches.count - 1, at: at)
        case .stepEntered(let index, let step, let outcome):
            enterStep(step, instance: index, outcome: outcome, at: at)
        case .regionReassigned(let index, let newRegion):
            if let index {
                branches[index].region = newRegion
            } else {
                for i in branches.indices where branches[i].status == .active && branches[i].region == region {
                    branches[i].region = newRegion
                }
                region = newRegion
            }
        case .held(let reason):
            hold = HoldState(since: at, reason: reason, clockPaused: workflow.hold.clock == .pause)
        case .resumed:
            if let hold, hold.clockPaused {
                let paused = at.since(hold.since)
                for i in timers.indices { timers[i].due = timers[i].due + paused }
                for i in escalations.indices where escalations[i].isOpen {
                    escalations[i].ladderBase = escalations[i].ladderBase + paused
                }
            }
            hold = nil
        case .deadlineMissed(let key, let number, _):
            let due = timers.first { $0.key == key }?.due ?? at
            let deadline = workflow.deadlines[key.index]
            // Missed at its due time, not when the miss was recorded: after an outage the two
            // differ by the outage, and "late since" must not restart at the recovery.
            escalations.append(
                Escalation(number: number, timer: key, reason: "deadline '\(deadline.id)' missed", openedAt: due, ladderBase: due))
            rescheduleLadder(number)
        case .escalated(let number, let rung, _, _):
            guard let i = escalationIndex(number), let key = escalations[i].timer else { break }
            let ladder = workflow.deadlines[key.index].ladder
            if escalations[i].acknowledgedAt != nil {
                // A re-escalation: the ladder resumes from this rung, measured from now.
                escalations[i].ladderBase = at - ladder[rung].after.approximateMilliseconds
                escalations[i].acknowledgedAt = nil
            }
            escalations[i].rungsFired = rung + 1
            rescheduleLadder(number)
        case .escalationRaised(let number, let reason, _):
            escalations.append(Escalation(number: number, timer: nil, reason: reason, openedAt: at, ladderBase: at))
        case .escalationAcknowledged(let number):
            guard let i = escalationIndex(number) else { break }
            escalations[i].acknowledgedAt = at
            if escalations[i].timer == nil { escalations[i].resolvedAt = at }
            rescheduleLadder(number)
        case .phaseTimerElapsed(let key, _, _):
            removeTimer(key)
        case .noted, .rated:
            break
        case .attributesChanged(let changes):
            for change in changes { attributes[change.attribute] = change.to }
        case .unitsAssigned(let index, let units, _):
            let wasAwaiting = branches[index].missingUnits > 0
            branches[index].assignedUnits += units
            branches[index].missingUnits = max(0, branches[index].missingUnits - units.count)
            if wasAwaiting, branches[index].missingUnits == 0 { stopAwaitingUnits(index, at: at) }
        case .unitsAwaited(let index, let missing, let capabilities):
            branches[index].missingUnits = missing
            branches[index].requiredCapabilities = capabilities
            if missing > 0 { startAwaitingUnits(index, at: at) } else { stopAwaitingUnits(index, at: at) }
        case .unitsReleased(let index, let units, _, _):
            branches[index].assignedUnits.removeAll { units.contains($0) }
        case .unitPreempted(let index, let unit, _, let reason):
            branches[index].assignedUnits.removeAll { $0 == unit }
            let number = (escalations.last?.number ?? 0) + 1
            escalations.append(
                Escalation(
                    number: number, timer: nil, reason: "unit \(unit) taken from \(branches[index].name): \(reason)", openedAt: at,
                    ladderBase: at))
        case .cancelled(let reason):
            ending = reason
            enterPhase(.cancelled, at: at)
        case .closed(let disposition):
            ending = disposition
            enterPhase(.closed, at: at)
        }
    }

    /// The branch's capabilities, then a dispatch's that it lacks.
    static func merged(_ own: [String], _ added: [String]) -> [String] {
        own + added.filter { !own.contains($0) }
    }

    private mutating func startAwaitingUnits(_ index: Int, at: Instant) {
        reachMoment(.unitsAwaited(branch: branches[index].definition), instance: index, at: at)
    }

    private mutating func stopAwaitingUnits(_ index: Int, at: Instant) {
        reachMoment(.unitsFilled(branch: branches[index].definition), instance: index, at: at)
    }

    private mutating func enterPhase(_ target: PhaseRef, at: Instant) {
        if case .phase(let old) = phase {
            for index in workflow.phases[old].timers.indices { removeTimer(TimerKey(kind: .phase, index: index, instance: old)) }
        }
        phase = target
        switch target {
        case .phase(let index):
            phaseEnteredAt[index] = at
            endedBeforePhase = branches.indices.filter { branches[$0].status != .active }
            for (timerIndex, timer) in workflow.phases[index].timers.enumerated() {
                setTimer(
                    TimerKey(kind: .phase, index: timerIndex, instance: index),
                    due: timer.delay.after(at, offsetSeconds: workflow.timezoneOffsetSeconds))
            }
            reachMoment(.phase(index), instance: nil, at: at)
        case .closed, .cancelled:
            reachMoment(.closed, instance: nil, at: at)
            timers.removeAll()
            hold = nil
            for i in escalations.indices where escalations[i].isOpen { escalations[i].resolvedAt = at }
        }
    }

    private mutating func enterStep(_ step: Int, instance index: Int, outcome: String?, at: Instant) {
        branches[index].step = step
        branches[index].outcome = outcome
        branches[index].stepEnteredAt[step] = at
        let definition = branches[index].definition
        reachStep(step, instance: index, at: at)
        if let end = workflow.branches[definition].steps[step].end {
            branches[index].status = end
            // An ended instance can no longer reach anything: drop its clocks.
            for (deadlineIndex, deadline) in workflow.deadlines.enumerated() where deadline.branch == definition {
                resolveDeadline(TimerKey(kind: .deadline, index: deadlineIndex, instance: index), at: at)
            }
        }
    }

    /// Meets the deadlines that wait for `moment` and arms those measured from it.
    private mutating func reachMoment(_ moment: Moment, instance: Int?, at: Instant) {
        meetDeadlines(reaching: moment, instance: instance, at: at)
        armDeadlines(from: moment, instance: instance, at: at)
    }

    /// An instance entering a step meets the deadlines to reach it or any step it comes after
    /// (`countsAsReaching`: it has got at least that far), and arms those measured from it.
    private mutating func reachStep(_ step: Int, instance: Int, at: Instant) {
        let branch = branches[instance].definition
        for reached in workflow.branches[branch].steps[step].countsAsReaching {
            meetDeadlines(reaching: .step(branch: branch, step: reached), instance: instance, at: at)
        }
        armDeadlines(from: .step(branch: branch, step: step), instance: instance, at: at)
    }

    private mutating func meetDeadlines(reaching moment: Moment, instance: Int?, at: Instant) {
        guard let met = workflow.deadlinesReach[moment] else { return }
        for deadlineIndex in met {
            for key in deadlineKeys(deadlineIndex, instance: instance) { resolveDeadline(key, at: at) }
        }
    }

    private mutating func armDeadlines(from moment: Moment, instance: Int?, at: Instant) {
        guard let armed = workflow.deadlinesFrom[moment] else { return }
        for deadlineIndex in armed {
            let deadline = workflow.deadlines[deadlineIndex]
            for key in deadlineKeys(deadlineIndex, instance: instance) {
                // Re-entering a `from` moment restarts the clock unless it is already late.
                guard !escalations.contains(where: { $0.timer == key && $0.isOpen }) else { continue }
                if deadline.reach != .closed, hasReached(deadline.reach, key: key) { continue }
                setTimer(key, due: deadline.within.after(at, offsetSeconds: workflow.timezoneOffsetSeconds))
            }
        }
    }

    /// The timer keys a deadline has for this moment: one per matching branch instance.
    private func deadlineKeys(_ deadlineIndex: Int, instance: Int?) -> [TimerKey] {
        guard let branch = workflow.deadlines[deadlineIndex].branch else {
            return [TimerKey(kind: .deadline, index: deadlineIndex, instance: -1)]
        }
        if let instance { return [TimerKey(kind: .deadline, index: deadlineIndex, instance: instance)] }
        return branches.indices.filter { branches[$0].definition == branch && branches[$0].status == .active }
            .map { TimerKey(kind: .deadline, index: deadlineIndex, instance: $0) }
    }

    /// Whether the instance (or operation) is already at or past the deadline's `reach`.
    private func hasReached(_ moment: Moment, key: TimerKey) -> Bool {
        switch moment {
        case .step(let branch, let step):
            key.instance >= 0 && workflow.branches[branch].steps[branches[key.instance].step].countsAsReaching.contains(step)
        case .phase(let index): phase == .phase(index)
        default: false
        }
    }

    private mutating func resolveDeadline(_ key: TimerKey, at: Instant) {
        removeTimer(key)
        for i in escalations.indices where escalations[i].timer == key && escalations[i].isOpen {
            escalations[i].resolvedAt = at
        }
    }

    /// Sets the deadline timer of an escalation to its next rung or re-escalation, or removes it.
    private mutating func rescheduleLadder(_ number: Int) {
        guard let i = escalationIndex(number), let key = escalations[i].timer else { return }
        let escalation = escalations[i]
        let deadline = workflow.deadlines[key.index]
        if let acknowledged = escalation.acknowledgedAt {
            if let again = deadline.reescalate, !deadline.ladder.isEmpty {
                setTimer(key, due: again.after(acknowledged, offsetSeconds: workflow.timezoneOffsetSeconds))
            } else {
                removeTimer(key)
            }
        } else if escalation.rungsFired < deadline.ladder.count {
            // Working days count as working days here too (`1wd` after a Friday miss is Monday).
            setTimer(
                key,
                due: deadline.ladder[escalation.rungsFired].after.after(
                    escalation.ladderBase, offsetSeconds: workflow.timezoneOffsetSeconds))
        } else {
            removeTimer(key)
        }
    }

    func escalationIndex(_ number: Int) -> Int? { escalations.firstIndex { $0.number == number } }

    private mutating func setTimer(_ key: TimerKey, due: Instant) {
        if let i = timers.firstIndex(where: { $0.key == key }) {
            timers[i].due = due
        } else {
            let position = timers.firstIndex { key < $0.key } ?? timers.endIndex
            timers.insert(ArmedTimer(key: key, due: due), at: position)
        }
    }

    private mutating func removeTimer(_ key: TimerKey) {
        if let i = timers.firstIndex(where: { $0.key == key }) { timers.remove(at: i) }
    }
}
