/// An `event:` rung fires its event in whatever phase the operation is in when the rung
/// comes due; a phase that does not accept it records the rung as not applied. A rung whose
/// event no phase the deadline can be running in accepts can never do anything.
extension WorkflowWarnings {
    func checkRungEvents() {
        let graph = PhaseGraph(workflow)
        // The awaiting-units deadlines (one per branch) share one ladder and one location:
        // their rungs are judged on the phases of all of them together, and warned of once.
        var groups: [(location: SourceLocation, ladder: [EscalationRung], name: String, running: Set<Int>)] = []
        for (index, deadline) in workflow.deadlines.enumerated() {
            let location = sourceMap.deadlines[index]
            let running = phasesRunning(deadline, graph)
            if let group = groups.firstIndex(where: { $0.location == location }) {
                groups[group].running.formUnion(running)
            } else {
                let name =
                    switch deadline.from {
                    case .unitsAwaited: "'awaiting_units'"
                    default: "deadline '\(deadline.id)'"
                    }
                groups.append((location, deadline.ladder, name, running))
            }
        }
        for group in groups where !group.running.isEmpty {
            for (position, rung) in group.ladder.enumerated() {
                guard case .event(let event) = rung.action,
                    !group.running.contains(where: { workflow.phases[$0].event(named: event) != nil })
                else { continue }
                let phases = group.running.sorted().map { "'\(workflow.phases[$0].name)'" }.joined(separator: ", ")
                sink.warning(
                    group.location,
                    "escalation rung \(position + 1) of \(group.name) fires event '\(event)', which no phase the deadline can be running in (\(phases)) accepts: the rung would only be recorded as not applied; fire an event one of them accepts, or notify instead"
                )
            }
        }
    }

    /// The phases the deadline can be running in (armed or climbing its ladder): those it can
    /// be armed in, and every phase reachable from them. More than it may be, never fewer.
    private func phasesRunning(_ deadline: DeadlineDefinition, _ graph: PhaseGraph) -> Set<Int> {
        let armedIn: Set<Int>
        switch deadline.from {
        case .started: armedIn = [workflow.initialPhase]
        case .phase(let phase): armedIn = [phase]
        case .step(let branch, _), .unitsAwaited(let branch): armedIn = phasesDispatching(branch, graph)
        case .closed, .unitsFilled: armedIn = []
        }
        return armedIn.reduce(into: Set<Int>()) { $0.formUnion(graph.reachable(from: $1, includingStart: true)) }
    }

    /// Where an instance of the branch can be dispatched: the phases whose `dispatch` names
    /// it; anywhere, if an operator or a ladder can add it.
    private func phasesDispatching(_ branch: Int, _ graph: PhaseGraph) -> Set<Int> {
        let added =
            workflow.reinforceable.contains(branch)
            || workflow.deadlines.contains { $0.ladder.contains { $0.action == .reinforce(branch) } }
        if added { return graph.reachable(from: workflow.initialPhase, includingStart: true) }
        return Set(workflow.phases.indices.filter { graph.dispatches($0, branch) })
    }
}
