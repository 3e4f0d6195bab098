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

    /// Reproducer: the rung sent the branch's default single unit to the operation's region,
    /// without the capabilities the late SWAT team was dispatched with. A hostage taking in
    /// hexi sends SWAT (2 units, negotiators as well as armed); it is moved to heping and is
    /// late: the reinforcement goes where it now is, as many, as capable.
    @Test func aReinforcingRungSendsWhatTheLateInstanceWasSentWith() throws {
        var (state, start) = try OperationState.start(
            workflow, id: "OP-3", region: "hexi",
            attributes: ["incident_type": "hostage_taking", "priority": "P1", "weapon_involved": "true"], at: .t0, actor: nil)
        var transitions = [start]
        transitions.append(try state.handle(.fire(event: "assess"), at: .minutes(1), actor: nil))
        transitions.append(try state.handle(.fire(event: "dispatch"), at: .minutes(2), actor: nil))
        #expect(state.phaseName == "negotiating")
        transitions.append(try state.handle(.reassign(region: "heping", branch: "swat"), at: .minutes(3), actor: nil))
        // Perimeter rung 3 at 2+8+6 = 16m, SWAT rung 3 at 2+15+10 = 27m.
        while let next = state.timers.min(by: { $0.due < $1.due }), next.due <= .minutes(30) {
            transitions.append(try state.handle(.timerFired(next.key), at: next.due, actor: nil))
        }
        let effects = transitions.flatMap(\.effects)
        #expect(
            effects.contains(
                .dispatchUnits(instance: "swat#2", branch: "swat", region: "heping", units: 2, capabilities: ["armed", "negotiator"])),
            "\(effects.filter { if case .dispatchUnits = $0 { true } else { false } })")
        #expect(
            effects.contains(
                .dispatchUnits(instance: "public_order#2", branch: "public_order", region: "hexi", units: 4, capabilities: [])),
            "the perimeter's reinforcement: the phase's 4 units, not the branch's default 2")
        let swat2 = try #require(state.instance(named: "swat#2"))
        #expect(state.branches[swat2].requiredCapabilities == ["armed", "negotiator"], "and it keeps them, for its own awaited units")
        // Events are the truth: replayed from the events and from their stored payloads, the same.
        let events = transitions.flatMap(\.events)
        #expect(OperationState.replay(workflow, events) == state)
        let stored = events.map { record in (record.at, record.actor, record.event.kind, state.payload(of: record.event)) }
        #expect(try OperationState.replay(workflow, stored: stored) == state)
        #expect(
            events.map { state.describe($0.event) }.contains("dispatched swat (2 units, also negotiator) to heping [escalation]"))
    }
}

/// A rung that reinforces another branch than the late one sends that branch's default units
/// to the operation's region: there is no late instance of it to copy.
@Suite struct ReinforcingAnotherBranchTests {
    @Test func anotherBranchGoesWithItsDefaultsToTheOperationsRegion() throws {
        let workflow = try Repository.minimal()  // patrol late → rung 3 reinforces swat
        var (state, _) = try OperationState.start(
            workflow, id: "OP-4", region: "hexi", attributes: ["priority": "P1"], at: .t0, actor: nil)
        _ = try state.handle(.fire(event: "assess"), at: .minutes(1), actor: nil)
        _ = try state.handle(.fire(event: "dispatch"), at: .minutes(2), actor: nil)
        _ = try state.handle(.reassign(region: "heping", branch: "patrol"), at: .minutes(3), actor: nil)
        var effects: [Effect] = []
        while let next = state.timers.min(by: { $0.due < $1.due }), next.due <= .minutes(22) {
            effects += try state.handle(.timerFired(next.key), at: next.due, actor: nil).effects
        }
        #expect(effects.contains(.dispatchUnits(instance: "swat", branch: "swat", region: "hexi", units: 1, capabilities: [])))
    }
}
