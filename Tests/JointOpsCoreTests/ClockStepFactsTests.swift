import JointOpsCore
import Testing

/// Report facts of an operation stored before jointopsd kept an operation's events in time
/// order: a step back of the system clock left some of its events earlier than the ones
/// before them. Its facts must still pass the report tables' checks (no negative interval
/// or lateness, no end before the start), or it could never be closed or cancelled.
@Suite struct ClockStepFactsTests {
    @Test func eventsThatGoBackInTimeGiveNoNegativeIntervalOrLateness() throws {
        let workflow = try Repository.minimal()
        var (state, first) = try OperationState.start(
            workflow, id: "OP-1", region: "hexi", attributes: ["priority": "P2", "weapon_involved": "false"], at: .t0, actor: nil)
        var events = first.events
        func run(_ command: Command, at minute: Int64) throws {
            events += try state.handle(command, at: .minutes(minute), actor: nil).events
        }
        try run(.fire(event: "assess"), at: 1)
        let assessed = try #require(state.timers.first { workflow.deadlines[$0.key.index].id == "assessed" })
        try run(.timerFired(assessed.key), at: 40)  // missed (due at minute 30)…
        // …then the clock steps back 42 minutes: met late, before it was due.
        try run(.fire(event: "dispatch"), at: -2)
        events += state.recordUnits([.unitsAssigned(instance: 0, units: ["p1"], reasons: ["homed"])], at: .minutes(-2), actor: nil).events
        try run(.advance(branch: "patrol", to: "on_scene", outcome: nil), at: -3)
        events += state.recordUnits([.unitsReleased(instance: 0, units: ["p1"], status: .available)], at: .minutes(-4), actor: nil).events
        try run(.advance(branch: "patrol", to: nil, outcome: "handled"), at: -5)
        try run(.close(disposition: "resolved"), at: -6)
        let facts = try #require(OperationFacts(state, events: events))
        #expect(facts.endedAt == facts.startedAt)
        #expect(facts.startToClosed == 0)
        let patrol = try #require(facts.branches.first)
        #expect(patrol.reportToDispatch == 0)
        #expect(patrol.dispatchToScene == 0)
        #expect(patrol.sceneToCompleted == 0)
        #expect(patrol.dispatchToAssigned == 0)
        #expect(patrol.unitMilliseconds == 0)
        let late = try #require(facts.deadlines.first { $0.deadline == "assessed" })
        #expect(late.outcome == .metLate)
        #expect(late.latenessMilliseconds == 0)
    }
}
