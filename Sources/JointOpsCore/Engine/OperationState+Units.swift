/// Units in an operation: the daemon owns the roster and chooses units (`UnitSelector`),
/// then records here what it did, so the operation's own events say which units went,
/// why, which were missing, released or taken away — and replay equals live.
extension OperationState {
    /// Applies unit events (`unitsAssigned`, `unitsAwaited`, `unitsReleased`,
    /// `unitPreempted`) like any other event, with the timer effects they imply (the
    /// awaiting-units clock) and, for a preemption, the escalation it raises.
    public mutating func recordUnits(_ events: [OperationEvent], at: Instant, actor: Actor?) -> Transition {
        let timersBefore = runningTimers
        var context = DecisionContext(at: at, actor: actor)
        for event in events {
            switch event {
            case .unitsAssigned, .unitsAwaited, .unitsReleased:
                emit(event, &context)
            case .unitPreempted(let index, let unit, let by, let reason):
                emit(event, &context)
                let number = escalations.last?.number ?? 0
                context.effects.append(
                    .notify(
                        audience: "duty_commander",
                        message: "\(id): escalation \(number): unit \(unit) of \(branches[index].name) taken by \(by): \(reason)"))
            default:
                preconditionFailure("recordUnits takes unit events only, not '\(event.kind)'")
            }
        }
        var transition = Transition()
        transition.events = context.events
        transition.effects = context.effects
        appendTimerEffects(before: timersBefore, &transition)
        return transition
    }

    /// The capabilities each unit of instance `index` must have: those its dispatch asked
    /// for (recorded with it), else the branch's own.
    public func requiredCapabilities(of index: Int) -> [String] {
        let instance = branches[index]
        return instance.requiredCapabilities.isEmpty ? workflow.branches[instance.definition].capabilities : instance.requiredCapabilities
    }

    /// What instance `index` awaits once it has lost `lost` of its units (taken by a
    /// preemption, or off it by an operator): the units it then lacks of those it asked
    /// for, each with its required capabilities (an over-staffed instance lacks none). Nil
    /// when that is what it awaits already, or when it has ended.
    public func awaitingAfterLosing(_ lost: Int, of index: Int) -> OperationEvent? {
        let instance = branches[index]
        let missing = max(0, instance.units - (instance.assignedUnits.count - lost))
        guard instance.status == .active, missing != instance.missingUnits else { return nil }
        return .unitsAwaited(instance: index, missing: missing, capabilities: requiredCapabilities(of: index))
    }

    /// The unit status entering `step` of instance `index` asks for (`unit_status:`).
    public func unitStatus(entering step: Int, of index: Int) -> UnitStatus? {
        workflow.branches[branches[index].definition].steps[step].unitStatus
    }
}
