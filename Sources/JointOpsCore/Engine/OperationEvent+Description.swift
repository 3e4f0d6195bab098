/// Human-readable lines for events, as the timeline, history and journal show them.
extension OperationState {
    /// Describes an event of this operation (instance indexes are resolved by this state,
    /// which has every instance the event can refer to).
    public func describe(_ event: OperationEvent) -> String {
        switch event {
        case .started(let operation, let workflowID, let version, let region, _):
            return "started \(operation) from \(workflowID) v\(version) in region \(region)"
        case .phaseEntered(let target, let cause):
            let reason =
                switch cause {
                case .start: "start"
                case .event(let event): "event \(event)"
                case .join: "join"
                }
            return "phase → \(workflow.phases[target].name) (\(reason))"
        case .branchDispatched(let branch, let region, let units, let reason, let capabilities):
            let also = capabilities.isEmpty ? "" : ", also \(capabilities.joined(separator: ", "))"
            return
                "dispatched \(workflow.branches[branch].name) (\(units) unit\(units == 1 ? "" : "s")\(also)) to \(region) [\(reason.rawValue)]"
        case .stepEntered(let index, let step, let outcome):
            let instance = branches[index]
            let name = workflow.branches[instance.definition].steps[step].name
            return "\(instance.name) → \(name)" + (outcome.map { " (outcome \($0))" } ?? "")
        case .regionReassigned(let index, let region):
            return (index.map { "\(branches[$0].name) reassigned" } ?? "operation reassigned") + " to region \(region)"
        case .held(let reason):
            return "held: \(reason)"
        case .resumed:
            return "resumed"
        case .deadlineMissed(let key, let number, let lateness):
            let suffix = key.instance >= 0 ? " by \(branches[key.instance].name)" : ""
            return
                "deadline \(workflow.deadlines[key.index].id) missed\(suffix) (escalation \(number)\(Self.lateness(lateness).map { ", \($0)" } ?? ""))"
        case .escalated(let number, let rung, let lateness, let refusal):
            guard let escalation = escalations.first(where: { $0.number == number }), let key = escalation.timer else {
                return "escalation \(number) rung \(rung + 1)"
            }
            let deadline = workflow.deadlines[key.index]
            return "escalation \(number) rung \(rung + 1) of \(deadline.id): \(workflow.name(of: deadline.ladder[rung].action))"
                + Self.late(lateness) + (refusal.map { " (not applied: \($0))" } ?? "")
        case .escalationRaised(let number, let reason, let audience):
            return "escalation \(number) raised to \(audience): \(reason)"
        case .escalationAcknowledged(let number):
            return "escalation \(number) acknowledged"
        case .phaseTimerElapsed(let key, let lateness, let refusal):
            let timer = workflow.phases[key.instance].timers[key.index]
            return "timer \(timer.delay) in \(workflow.phases[key.instance].name) elapsed → \(timer.event)"
                + Self.late(lateness) + (refusal.map { " (not applied: \($0))" } ?? "")
        case .noted(let text):
            return "note: \(text)"
        case .attributesChanged(let changes):
            let each = changes.map {
                "\(workflow.attributes[$0.attribute].name) \($0.from?.description ?? "(none)") → \($0.to?.description ?? "(none)")"
            }
            return "attributes: " + each.joined(separator: ", ")
        case .cancelled(let reason):
            return "cancelled: \(reason)"
        case .closed(let disposition):
            return "closed: \(disposition)"
        case .rated(let rating):
            return "rated \(rating.score)/5 (before \(rating.before), during \(rating.during), after \(rating.after))"
                + (rating.comment.isEmpty ? "" : ": \(rating.comment)")
        case .unitsAssigned(let index, let units, let reasons):
            let each = zip(units, reasons).map { "\($0) (\($1))" }.joined(separator: "; ")
            return "\(branches[index].name) assigned \(units.count) unit\(units.count == 1 ? "" : "s"): \(each)"
        case .unitsAwaited(let index, let missing, _):
            return missing > 0
                ? "\(branches[index].name) awaiting \(missing) more unit\(missing == 1 ? "" : "s")"
                : "\(branches[index].name) no longer awaiting units"
        case .unitsReleased(let index, let units, let status, let reason):
            return "\(branches[index].name) released \(units.joined(separator: ", ")) → \(status.rawValue)\(reason.map { ": \($0)" } ?? "")"
        case .unitPreempted(let index, let unit, let by, let reason):
            return "unit \(unit) taken from \(branches[index].name) by \(by): \(reason)"
        }
    }

    /// `18s late` for a timer that fired a second or more after it was due; nil else.
    private static func lateness(_ milliseconds: Int64) -> String? {
        milliseconds < 1000 ? nil : "\(WorkflowDuration.fixed(milliseconds: milliseconds)) late"
    }

    /// ` (18s late)`, or nothing.
    private static func late(_ milliseconds: Int64) -> String { lateness(milliseconds).map { " (\($0))" } ?? "" }
}
