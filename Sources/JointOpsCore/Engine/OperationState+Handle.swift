/// Decide: check a command against the operation and turn it into events and effects.
/// A refused command changes nothing.
extension OperationState {
    /// Why a command on an ended operation is refused, and what can still be done with it.
    public var endedReason: String {
        let what = "operation \(id) is \(phaseName)\(ending.map { " (\($0))" } ?? "")"
        let report = "read its report (jointopsctl report operation \(id))"
        return phase == .closed
            ? "\(what); all that remains is to rate it (jointopsctl rate \(id) …) and \(report)"
            : "\(what); all that remains is to \(report)"
    }

    public mutating func handle(_ command: Command, at: Instant, actor: Actor?) throws(Refusal) -> Transition {
        guard !phase.isTerminal else { throw refusal(.operationEnded, endedReason) }
        try checkHold(command)
        // Most commands find nothing due: no copy to restore, no catch-up.
        guard runningTimers.contains(where: { Self.isDue($0, before: command, at: at) }) else {
            return try decide(command, at: at, actor: actor)
        }
        let original = self
        do throws(Refusal) {
            var (transition, fired) = catchUp(before: command, at: at)
            if case .timerFired(let key) = command, fired.contains(key) { return transition }
            if !transition.events.isEmpty {
                // What fell due may have ended the operation, or held it.
                guard !phase.isTerminal else { throw refusal(.operationEnded, endedReason) }
                try checkHold(command)
            }
            let decided = try decide(command, at: at, actor: actor)
            transition.events += decided.events
            transition.effects += decided.effects
            return transition
        } catch {
            self = original
            throw error
        }
    }

    /// Fires first, earliest first, the timers that fell due before `command` (for a timer's
    /// own firing, those due by then), at `at` with their lateness, as the timer service would
    /// have had it been on time; then the command sees the operation as it should stand.
    /// Reproducer (a deadline-storm audit): a step met 43 ms after its deadline, before the busy
    /// timer service got to it, was recorded as met (no miss, no rung); a hold 3 ms after a
    /// deadline put the miss off until the resume, 4 s later, with a lateness of 20 ms. And an
    /// operation's deadlines due together fired one per pass of the timer service.
    private mutating func catchUp(before command: Command, at: Instant) -> (Transition, fired: Set<TimerKey>) {
        var caughtUp = Transition()
        var fired: Set<TimerKey> = []
        // A ladder arms its next rung as one fires; bounded all the same.
        for _ in 0..<1000 {
            guard !phase.isTerminal,
                let next = runningTimers.lazy.filter({ Self.isDue($0, before: command, at: at) })
                    .min(by: { ($0.due, $0.key.description) < ($1.due, $1.key.description) }),
                let transition = try? decide(.timerFired(next.key), at: at, actor: nil)
            else { break }
            caughtUp.events += transition.events
            caughtUp.effects += transition.effects
            fired.insert(next.key)
        }
        return (caughtUp, fired)
    }

    /// Whether `timer` fell due before `command` at `at` (for a timer's own firing, by then).
    private static func isDue(_ timer: ArmedTimer, before command: Command, at: Instant) -> Bool {
        if case .timerFired = command { timer.due <= at } else { timer.due < at }
    }

    /// The command's own events and effects, the operation as it now stands.
    private mutating func decide(_ command: Command, at: Instant, actor: Actor?) throws(Refusal) -> Transition {
        let timersBefore = runningTimers
        var context = DecisionContext(at: at, actor: actor)
        switch command {
        case .fire(let event):
            let target = try target(of: event)
            enter(target, cause: .event(event), &context)
        case .advance(let branch, let to, let outcome):
            let (instance, step, recorded) = try advanceTarget(branch, to: to, outcome: outcome)
            emit(.stepEntered(instance: instance, step: step, outcome: recorded), &context)
        case .reinforce(let branch, let units, let region):
            try reinforce(branch, units: units, region: region, &context)
        case .reassign(let region, let branch):
            try reassign(region, branch: branch, &context)
        case .hold(let reason):
            guard workflow.hold.allowed else {
                throw refusal(.notAllowed, "workflow '\(workflow.id)' does not allow operations to be held")
            }
            guard !reason.isBlank else {
                throw refusal(.invalidArgument, "a hold needs a reason, e.g. 'awaiting warrant'", parameter: "reason")
            }
            emit(.held(reason: reason), &context)
        case .resume:
            guard hold != nil else { throw refusal(.notAllowed, "operation \(id) is not on hold") }
            emit(.resumed, &context)
        case .escalate(let reason, let audience):
            guard !reason.isBlank else {
                throw refusal(.invalidArgument, "an escalation needs a reason, e.g. 'suspect sighted near the school'", parameter: "reason")
            }
            let number = (escalations.last?.number ?? 0) + 1
            let audience = audience ?? "duty_commander"
            emit(.escalationRaised(escalation: number, reason: reason, audience: audience), &context)
            context.effects.append(.notify(audience: audience, message: "\(id): escalation \(number): \(reason)"))
        case .acknowledge(let target):
            let number = try openEscalation(target)
            emit(.escalationAcknowledged(escalation: number), &context)
        case .note(let text):
            guard !text.isBlank else { throw refusal(.invalidArgument, "a note needs text") }
            emit(.noted(text), &context)
        case .setAttributes(let values):
            try setAttributes(values, &context)
        case .cancel(let reason):
            try cancel(reason, &context)
        case .close(let disposition):
            try close(disposition, &context)
        case .timerFired(let key):
            try timerFired(key, &context)
        }
        settle(&context)
        var transition = Transition()
        transition.events = context.events
        transition.effects = context.effects
        appendTimerEffects(before: timersBefore, &transition)
        return transition
    }

    // MARK: Emitting

    /// Applies an event and records it, with the effects it implies for units.
    mutating func emit(_ event: OperationEvent, _ context: inout DecisionContext) {
        let record = RecordedEvent(at: context.at, actor: context.actor, event: event)
        apply(record)
        context.events.append(record)
        switch event {
        case .branchDispatched(_, _, _, _, let capabilities):
            let instance = branches[branches.count - 1]
            let definition = workflow.branches[instance.definition]
            context.effects.append(
                .dispatchUnits(
                    instance: instance.name, branch: definition.name, region: instance.region, units: instance.units,
                    capabilities: Self.merged(definition.capabilities, capabilities)))
        case .stepEntered(let index, _, _) where branches[index].status.isEnded:
            context.effects.append(.releaseUnits(instance: branches[index].name))
        default:
            break
        }
    }

    /// Enters a phase and dispatches the branches it dispatches on entry.
    mutating func enter(_ index: Int, cause: PhaseEntryCause, _ context: inout DecisionContext) {
        emit(.phaseEntered(index, cause: cause), &context)
        if workflow.phases[index].standsDown {
            for instance in branches.indices where branches[instance].status == .active {
                let standDown = workflow.branches[branches[instance].definition].standDownStep
                emit(.stepEntered(instance: instance, step: standDown, outcome: "phase \(workflow.phases[index].name)"), &context)
            }
        }
        dispatch(workflow.phases[index].dispatch, &context)
    }

    /// Dispatches each of `rules` whose guard holds and whose branch has no active instance,
    /// as entering their phase does.
    mutating func dispatch(_ rules: some Sequence<DispatchRule>, _ context: inout DecisionContext) {
        for rule in rules {
            guard rule.guardCondition?.evaluate(in: self) ?? true else { continue }
            guard !branches.contains(where: { $0.definition == rule.branch && $0.status == .active }) else { continue }
            let definition = workflow.branches[rule.branch]
            emit(
                .branchDispatched(
                    branch: rule.branch, region: rule.region ?? region, units: rule.units ?? definition.units, reason: .phase,
                    capabilities: rule.capabilities), &context)
        }
    }

    /// Takes the joins of the current phase while one holds (bounded, so a cycle cannot spin).
    mutating func settle(_ context: inout DecisionContext) {
        for _ in 0...workflow.phases.count {
            guard case .phase(let index) = phase, hold == nil,
                let join = workflow.phases[index].joins.first(where: joinHolds)
            else { return }
            enter(join.target, cause: .join, &context)
        }
    }

    /// A join looks at the branch instances that are active or ended while the operation was
    /// in this phase, so instances that ended before it was entered (in an earlier phase, or
    /// on an earlier visit before a `reopen`) do not count.
    func joinHolds(_ join: JoinRule) -> Bool {
        guard case .phase = phase else { return false }
        var inScope = 0
        var matching = 0
        for (position, instance) in branches.enumerated() {
            let counted = join.of?.contains(instance.definition) ?? workflow.branches[instance.definition].required
            guard counted, instance.status == .active || !endedBeforePhase.contains(position) else { continue }
            inScope += 1
            if join.condition.matches(instance.status) { matching += 1 }
        }
        switch join.quantifier {
        case .all: return inScope > 0 && matching == inScope
        case .any: return matching > 0
        }
    }

    /// Arm and cancel effects for the difference between the running timers before and now.
    func appendTimerEffects(before: [ArmedTimer], _ transition: inout Transition) {
        let after = runningTimers
        for old in before where !after.contains(where: { $0.key == old.key }) {
            transition.effects.append(.cancelTimer(old.key))
        }
        for new in after where !before.contains(new) {
            transition.effects.append(.armTimer(new.key, due: new.due))
        }
    }

    // MARK: Refusing

    func refusal(_ code: Refusal.Code, _ reason: String, parameter: String? = nil) -> Refusal {
        Refusal(code: code, reason: reason, operation: id, phase: phaseName, allowed: allowedNow(), parameter: parameter)
    }

    private func checkHold(_ command: Command) throws(Refusal) {
        guard let hold else { return }
        switch command {
        case .resume, .note, .escalate, .acknowledge, .cancel, .reassign, .setAttributes: return
        case .timerFired where !hold.clockPaused: return
        default:
            throw refusal(.onHold, "operation \(id) is on hold since \(hold.since) (\(hold.reason)); resume it first")
        }
    }
}
