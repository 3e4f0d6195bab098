/// What an operation accepts now, for refusals and for operators' screens.
extension OperationState {
    public func allowedNow() -> [String] {
        guard case .phase(let current) = phase else { return [] }
        var allowed: [String] = []
        if let hold {
            allowed.append("resume (on hold: \(hold.reason))")
        } else {
            let events = workflow.phases[current].events
            if !events.isEmpty { allowed.append(Self.alternatives("fire ", events.lazy.map(\.name))) }
            for instance in branches where instance.status == .active {
                let definition = workflow.branches[instance.definition]
                let step = definition.steps[instance.step]
                var text = "advance "
                text.reserveCapacity(128)
                text += instance.name
                text += " (at "
                text += step.name
                text += ") to "
                Self.append(step.reachableDirectly.lazy.map { definition.steps[$0].name }, to: &text)
                if !step.outcomes.isEmpty {
                    text += " or outcome "
                    Self.append(step.outcomes.lazy.map(\.name), to: &text)
                }
                allowed.append(text)
            }
            if !workflow.reinforceable.isEmpty {
                allowed.append(Self.alternatives("reinforce ", workflow.reinforceable.lazy.map { workflow.branches[$0].name }))
            }
            if workflow.hold.allowed { allowed.append("hold") }
            if workflow.closeFrom.contains(current), !branches.contains(where: { $0.status == .active }) {
                allowed.append(Self.alternatives("close ", workflow.dispositions))
            }
        }
        let unacknowledged = escalations.lazy.filter { $0.isOpen && $0.acknowledgedAt == nil }
        if !unacknowledged.isEmpty { allowed.append(Self.alternatives("acknowledge ", unacknowledged.map { String($0.number) })) }
        if workflow.reassignAllowed { allowed.append("reassign") }
        if !workflow.attributes.isEmpty { allowed.append("set") }
        allowed.append("escalate")
        allowed.append("note")
        allowed.append("cancel")
        return allowed
    }

    /// `prefix` then the names separated by " | ", in one string (the view lists these for
    /// every reply; joining arrays of strings showed in profiles).
    private static func alternatives(_ prefix: String, _ names: some Sequence<String>) -> String {
        var text = prefix
        append(names, to: &text)
        return text
    }

    private static func append(_ names: some Sequence<String>, to text: inout String) {
        var first = true
        for name in names {
            if !first { text += " | " }
            text += name
            first = false
        }
    }
}
