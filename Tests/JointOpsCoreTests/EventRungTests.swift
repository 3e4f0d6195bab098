import JointOpsCore
import Testing

/// An `event:` rung fires its event like a phase timer: when the phase does not accept it
/// then, or the operation is on hold, the history says the rung fired but its event was not
/// applied, and why.
@Suite struct EventRungTests {
    /// The deadline parks the operation at its first rung and tries again at its second,
    /// when the operation is already parked.
    static let source = """
        workflow: parking
        version: 1
        title: Parking
        phases:
          ready:
            initial: true
            on: {go: working}
          working:
            dispatch: [remote]
            on: {park: parked}
          parked:
            on: {unpark: working}
        branches:
          remote:
            kind: swat
            steps:
              dispatched: {initial: true, next: [on_scene, stood_down]}
              on_scene: {next: [completed, stood_down]}
              completed: {end: completed}
              stood_down: {end: stood_down}
        deadlines:
          - id: remote_on_scene
            reach: remote.on_scene
            from: remote.dispatched
            within: 10m
            escalation:
              - {after: 0m, event: park}
              - {after: 5m, event: park}
        hold: {allowed: true, clock: run}
        close: {from: [parked], dispositions: [ok]}
        """

    let workflow: Workflow
    let key = TimerKey(kind: .deadline, index: 0, instance: 0)

    init() throws {
        let result = WorkflowLoader.load(source: Self.source, file: "parking.yaml")
        workflow = try #require(result.workflow, "\(result.diagnostics)")
    }

    func working() throws -> (OperationState, [RecordedEvent]) {
        var (state, start) = try OperationState.start(workflow, id: "OP-E", region: "hexi", attributes: [:], at: .t0, actor: nil)
        var events = start.events
        events += try state.handle(.fire(event: "go"), at: .minutes(0), actor: nil).events
        return (state, events)
    }

    /// Reproducer: "escalation 1 rung 2 of remote_on_scene: fire park", though the parked
    /// phase does not accept `park` and nothing happened.
    @Test func aRungWhoseEventThePhaseRefusesIsRecordedAsNotApplied() throws {
        var (state, events) = try working()
        let missed = try state.handle(.timerFired(key), at: .minutes(10), actor: nil)
        events += missed.events
        #expect(state.phaseName == "parked")
        #expect(missed.events.contains { $0.event == .escalated(escalation: 1, rung: 0, latenessMilliseconds: 0, refusal: nil) })
        let second = try state.handle(.timerFired(key), at: .minutes(15), actor: nil)
        events += second.events
        #expect(state.phaseName == "parked")
        let reason = "event 'park' is not accepted in phase 'parked' (it is accepted in 'working'); did you mean 'unpark'?"
        #expect(second.events.map(\.event) == [.escalated(escalation: 1, rung: 1, latenessMilliseconds: 0, refusal: reason)])
        #expect(state.describe(second.events[0].event) == "escalation 1 rung 2 of remote_on_scene: fire park (not applied: \(reason))")
        #expect(state.escalations[0].rungsFired == 2, "the rung fired all the same: the ladder goes on")
        let stored = events.map { record in (record.at, record.actor, record.event.kind, state.payload(of: record.event)) }
        #expect(stored.last?.3["refusal"] == .string(reason))
        #expect(try OperationState.replay(workflow, stored: stored) == state)
        #expect(try OperationState.replayRecording(workflow, stored: stored).events == events)
    }

    @Test func aRungDuringAHoldWithARunningClockIsNotApplied() throws {
        var (state, _) = try working()
        _ = try state.handle(.hold(reason: "waiting for the bureau"), at: .minutes(5), actor: nil)
        let missed = try state.handle(.timerFired(key), at: .minutes(10), actor: nil)
        #expect(state.phaseName == "working")
        #expect(
            missed.events.map(\.event).contains(
                .escalated(escalation: 1, rung: 0, latenessMilliseconds: 0, refusal: "operation OP-E is on hold")))
    }
}
