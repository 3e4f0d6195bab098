import JointOpsCore
import Testing

/// Changing attributes while an operation runs (`set`), on the fixture workflow
/// `street-robbery` (Fixtures/valid/minimal.yaml): `in_action` dispatches swat `when:
/// weapon_involved`.
@Suite struct SetAttributesTests {
    let workflow: Workflow
    let officer = Actor(uid: 1001, name: "zhang", role: "operate")

    init() throws { workflow = try Repository.minimal() }

    /// Started without a weapon; `events` collects every event so far.
    func started(_ events: inout [RecordedEvent]) throws -> OperationState {
        let (state, transition) = try OperationState.start(
            workflow, id: "OP-1", region: "hexi", attributes: ["priority": "P2"], at: .t0, actor: officer)
        events += transition.events
        return state
    }

    func refusal(_ state: OperationState, _ values: [String: String]) -> Refusal? {
        var copy = state
        do {
            _ = try copy.handle(.setAttributes(values), at: .minutes(5), actor: officer)
            return nil
        } catch {
            return error
        }
    }

    @Test func aChangeRecordsTheOldAndNewValuesAndGuardsSeeTheNewOnes() throws {
        var events: [RecordedEvent] = []
        var state = try started(&events)
        let transition = try state.handle(
            .setAttributes(["weapon_involved": "yes", "priority": "P1", "incident_type": "robbery"]), at: .minutes(1), actor: officer)
        events += transition.events
        let weapon = workflow.attribute(named: "weapon_involved")!
        let priority = workflow.attribute(named: "priority")!
        let incident = workflow.attribute(named: "incident_type")!
        #expect(
            transition.events.map(\.event) == [
                .attributesChanged([
                    AttributeChange(attribute: priority, from: .priority(2), to: .priority(1)),
                    AttributeChange(attribute: weapon, from: .bool(false), to: .bool(true)),
                    AttributeChange(attribute: incident, from: nil, to: .symbol("robbery")),
                ])
            ])
        #expect(state.attribute(named: "weapon_involved") == .bool(true))
        #expect(state.priorityLevel == 1)
        #expect(
            state.describe(transition.events[0].event)
                == "attributes: priority P2 → P1, weapon_involved false → true, incident_type (none) → robbery")
        #expect(transition.effects.isEmpty, "nothing is dispatched in 'reported'")
        // Entering in_action now sees the weapon: swat goes out with patrol.
        events += try state.handle(.fire(event: "assess"), at: .minutes(2), actor: officer).events
        events += try state.handle(.fire(event: "dispatch"), at: .minutes(3), actor: officer).events
        #expect(state.branches.map(\.name) == ["patrol", "swat"])
        #expect(OperationState.replay(workflow, events) == state)
    }

    @Test func aGuardThatComesToHoldInTheCurrentPhaseDispatchesItsBranchNow() throws {
        var events: [RecordedEvent] = []
        var state = try started(&events)
        events += try state.handle(.fire(event: "assess"), at: .minutes(1), actor: officer).events
        events += try state.handle(.fire(event: "dispatch"), at: .minutes(2), actor: officer).events
        #expect(state.branches.map(\.name) == ["patrol"])
        let change = try state.handle(.setAttributes(["weapon_involved": "true"]), at: .minutes(4), actor: officer)
        events += change.events
        #expect(change.events.map(\.event.kind) == ["attributes_changed", "branch_dispatched"])
        #expect(state.branches.map(\.name) == ["patrol", "swat"])
        #expect(state.branches[1].dispatchedAt == .minutes(4))
        #expect(
            change.effects.contains {
                if case .dispatchUnits(let instance, _, "hexi", 1, _) = $0 { instance == "swat" } else { false }
            }, "swat's units are asked for as on entering the phase")
        // The guard held before this change: no second swat.
        let again = try state.handle(.setAttributes(["priority": "P1"]), at: .minutes(5), actor: officer)
        events += again.events
        #expect(again.events.map(\.event.kind) == ["attributes_changed"])
        // Turning it false and true again while swat is active dispatches nothing more.
        events += try state.handle(.setAttributes(["weapon_involved": "false"]), at: .minutes(6), actor: officer).events
        let back = try state.handle(.setAttributes(["weapon_involved": "true"]), at: .minutes(7), actor: officer)
        events += back.events
        #expect(back.events.map(\.event.kind) == ["attributes_changed"], "swat is still active")
        #expect(OperationState.replay(workflow, events) == state)
        // The stored form (names, not indexes) reads back to the same events and state.
        let stored = events.map { record in (record.at, record.actor, record.event.kind, state.payload(of: record.event)) }
        #expect(try OperationState.replayRecording(workflow, stored: stored).events == events)
        #expect(try OperationState.replay(workflow, stored: stored) == state)
    }

    @Test func anEmptyValueRemovesAnOptionalAttributeBackToItsDefault() throws {
        var events: [RecordedEvent] = []
        var state = try started(&events)
        events += try state.handle(.setAttributes(["incident_type": "assault", "weapon_involved": "true"]), at: .minutes(1), actor: nil)
            .events
        let removal = try state.handle(.setAttributes(["incident_type": "", "weapon_involved": ""]), at: .minutes(2), actor: nil)
        events += removal.events
        #expect(state.attribute(named: "incident_type") == nil)
        #expect(state.attribute(named: "weapon_involved") == .bool(false), "its default")
        #expect(state.describe(removal.events[0].event) == "attributes: weapon_involved true → false, incident_type assault → (none)")
        let payload = state.payload(of: removal.events[0].event)
        #expect(
            payload.canonical
                == #"{"changes":[{"attribute":"weapon_involved","from":true,"to":false},{"attribute":"incident_type","from":"assault","to":null}]}"#
        )
        #expect(state.event(kind: "attributes_changed", payload: payload) == removal.events[0].event)
        #expect(OperationState.replay(workflow, events) == state)
    }

    @Test func refusals() throws {
        var events: [RecordedEvent] = []
        let state = try started(&events)
        let unknown = refusal(state, ["weapon_involvd": "true"])
        #expect(unknown?.code == .invalidAttribute)
        #expect(unknown?.reason == "workflow 'street-robbery' has no attribute 'weapon_involvd'; did you mean 'weapon_involved'?")
        let wrongType = refusal(state, ["weapon_involved": "maybe"])
        #expect(wrongType?.code == .invalidAttribute)
        #expect(wrongType?.reason == "attribute 'weapon_involved' must be true or false (yes and no are taken too); got 'maybe'")
        let removed = refusal(state, ["priority": ""])
        #expect(removed?.code == .invalidAttribute)
        #expect(removed?.reason == "attribute 'priority' is required by workflow 'street-robbery'; it cannot be removed")
        let same = refusal(state, ["weapon_involved": "false", "priority": "P2"])
        #expect(same?.code == .invalidArgument)
        #expect(same?.reason == "priority is already P2; weapon_involved is already false: nothing changes")
        #expect(refusal(state, ["incident_type": ""])?.reason == "incident_type is already unset: nothing changes")
        #expect(refusal(state, [:])?.reason == "set needs at least one attribute, e.g. weapon_involved=true")
        #expect(refusal(state, ["priority": "P1", "weapon_involved": "maybe"]) != nil, "nothing is applied when one value is wrong")
        #expect(state.allowedNow().contains("set"))
    }

    @Test func onHoldAChangeIsAcceptedUnlessItWouldDispatch() throws {
        var events: [RecordedEvent] = []
        var state = try started(&events)
        events += try state.handle(.fire(event: "assess"), at: .minutes(1), actor: officer).events
        events += try state.handle(.fire(event: "dispatch"), at: .minutes(2), actor: officer).events
        events += try state.handle(.hold(reason: "awaiting warrant"), at: .minutes(3), actor: officer).events
        events += try state.handle(.setAttributes(["priority": "P1"]), at: .minutes(4), actor: officer).events
        #expect(state.priorityLevel == 1)
        let dispatching = refusal(state, ["weapon_involved": "true"])
        #expect(dispatching?.code == .onHold)
        #expect(dispatching?.reason.contains("this change would dispatch swat; resume it first") == true)
        #expect(state.allowedNow().contains("set"))
        events += try state.handle(.resume, at: .minutes(5), actor: officer).events
        events += try state.handle(.setAttributes(["weapon_involved": "true"]), at: .minutes(6), actor: officer).events
        #expect(state.branches.map(\.name) == ["patrol", "swat"])
        #expect(OperationState.replay(workflow, events) == state)
    }

    @Test func onHoldAGuardThatComesToHoldForAnActiveBranchIsNoDispatch() throws {
        var events: [RecordedEvent] = []
        var state = try started(&events)
        events += try state.handle(.fire(event: "assess"), at: .minutes(1), actor: officer).events
        events += try state.handle(.fire(event: "dispatch"), at: .minutes(2), actor: officer).events
        events += try state.handle(.reinforce(branch: "swat", units: nil, region: nil), at: .minutes(3), actor: officer).events
        events += try state.handle(.hold(reason: "awaiting warrant"), at: .minutes(4), actor: officer).events
        let change = try state.handle(.setAttributes(["weapon_involved": "true"]), at: .minutes(5), actor: officer)
        events += change.events
        #expect(change.events.map(\.event.kind) == ["attributes_changed"], "swat is already out")
        #expect(OperationState.replay(workflow, events) == state)
    }

    @Test func anEndedOperationRefusesAChange() throws {
        var events: [RecordedEvent] = []
        var state = try started(&events)
        _ = try state.handle(.cancel(reason: "false_alarm"), at: .minutes(1), actor: officer)
        #expect(refusal(state, ["priority": "P1"])?.code == .operationEnded)
    }
}
