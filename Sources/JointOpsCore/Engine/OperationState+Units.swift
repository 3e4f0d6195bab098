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

    /// The unit status entering `step` of instance `index` asks for (`unit_status:`).
    public func unitStatus(entering step: Int, of index: Int) -> UnitStatus? {
        workflow.branches[branches[index].definition].steps[step].unitStatus
    }
}
