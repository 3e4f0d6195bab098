/// What an operation accepts now, for refusals and for operators' screens.
extension OperationState {
    public func allowedNow() -> [String] {
        guard case .phase(let current) = phase else { return [] }
        var allowed: [String] = []
        if let hold {
            allowed.append("resume (on hold: \(hold.reason))")
        } else {
            let events = workflow.phases[current].events.map(\.name)
            if !events.isEmpty { allowed.append("fire \(events.joined(separator: " | "))") }
            for instance in branches where instance.status == .active {
                let definition = workflow.branches[instance.definition]
                let step = definition.steps[instance.step]
                let targets = step.reachableDirectly.map { definition.steps[$0].name }
                var text = "advance \(instance.name) (at \(step.name)) to \(targets.joined(separator: " | "))"
                if !step.outcomes.isEmpty { text += " or outcome \(step.outcomes.map(\.name).joined(separator: " | "))" }
                allowed.append(text)
            }
            if !workflow.reinforceable.isEmpty {
                allowed.append("reinforce \(workflow.reinforceable.map { workflow.branches[$0].name }.joined(separator: " | "))")
            }
            if workflow.hold.allowed { allowed.append("hold") }
            if workflow.closeFrom.contains(current), !branches.contains(where: { $0.status == .active }) {
                allowed.append("close \(workflow.dispositions.joined(separator: " | "))")
            }
        }
        let unacknowledged = escalations.filter { $0.isOpen && $0.acknowledgedAt == nil }.map { String($0.number) }
        if !unacknowledged.isEmpty { allowed.append("acknowledge \(unacknowledged.joined(separator: " | "))") }
        if workflow.reassignAllowed { allowed.append("reassign") }
        allowed.append(contentsOf: ["escalate", "note", "cancel"])
        return allowed
    }
}
