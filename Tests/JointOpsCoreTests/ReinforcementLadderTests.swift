import JointOpsCore
import Testing

/// A ladder's `reinforce` rung sends one reinforcement, not a chain: the reinforcement's own
/// deadline, and a re-escalation repeating the rung, notify instead. On the real
/// armed-response workflow, whose perimeter and SWAT ladders end in `reinforce`.
@Suite struct ReinforcementLadderTests {
    let workflow: Workflow

    init() throws { workflow = try Repository.workflow(Repository.workflows.appendingPathComponent("armed-response.yaml")) }

    /// Fires every timer of `state` that falls due up to `until`, in due order.
    func run(_ state: inout OperationState, until: Instant) throws {
        while let next = state.timers.min(by: { $0.due < $1.due }), next.due <= until {
            _ = try state.handle(.timerFired(next.key), at: next.due, actor: nil)
        }
    }

    @Test func aMissedPerimeterSendsOneReinforcementNotAChain() throws {
        var (state, _) = try OperationState.start(
            workflow, id: "OP-1", region: "hexi", attributes: ["incident_type": "armed_robbery", "priority": "P3"], at: .t0, actor: nil)
        _ = try state.handle(.fire(event: "assess"), at: .minutes(1), actor: nil)
        _ = try state.handle(.fire(event: "dispatch"), at: .minutes(2), actor: nil)
        // Nobody reports a perimeter for three hours.
        try run(&state, until: .minutes(180))
        let publicOrder = state.branches.filter { workflow.branches[$0.definition].name == "public_order" }.map(\.name)
        #expect(publicOrder == ["public_order", "public_order#2"], "one reinforcement, not one per reinforcement's own miss")
        let notes = state.escalations.count { $0.timer != nil }
        #expect(notes >= 2, "the reinforcement's own deadline was missed too, and escalated")
    }

    @Test func aReescalationRepeatsTheAlarmButNotTheReinforcement() throws {
        var (state, _) = try OperationState.start(
            workflow, id: "OP-2", region: "hexi",
            attributes: ["incident_type": "armed_robbery", "priority": "P1", "weapon_involved": "true"], at: .t0, actor: nil)
        _ = try state.handle(.fire(event: "assess"), at: .minutes(1), actor: nil)
        _ = try state.handle(.fire(event: "dispatch"), at: .minutes(2), actor: nil)
        // SWAT is not on scene; its ladder reinforces at 10 minutes past the deadline.
        try run(&state, until: .minutes(30))
        #expect(state.branches.filter { $0.name.hasPrefix("swat") }.count == 2)
        // Acknowledged, then still not met: every `reescalate` the ladder's last rung fires again.
        let first = try #require(state.escalations.first { $0.timer != nil && workflow.deadlines[$0.timer!.index].id == "swat_on_scene" })
        _ = try state.handle(.acknowledge(.escalation(first.number)), at: .minutes(31), actor: nil)
        try run(&state, until: .minutes(60))
        #expect(state.branches.filter { $0.name.hasPrefix("swat") }.map(\.name) == ["swat", "swat#2"])
    }
}
