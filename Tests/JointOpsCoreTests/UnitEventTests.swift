import JointOpsCore
import Testing

/// What the daemon records about an operation's units: applied like any event, stored as
/// payloads, replayed to the same state; the awaiting-units clock runs while a branch is short.
@Suite struct UnitEventTests {
    let workflow: Workflow
    let officer = Actor(uid: 1001, name: "zhang", role: "operate")

    init() throws { workflow = try Repository.minimal() }

    /// Started, assessed and dispatched at minute 2: the patrol branch is instance 0.
    func inAction() throws -> (OperationState, [RecordedEvent]) {
        var (state, first) = try OperationState.start(
            workflow, id: "OP-1", region: "hexi", attributes: ["priority": "P2", "weapon_involved": "false"], at: .t0, actor: officer)
        var events = first.events
        events += try state.handle(.fire(event: "assess"), at: .minutes(1), actor: officer).events
        events += try state.handle(.fire(event: "dispatch"), at: .minutes(2), actor: officer).events
        return (state, events)
    }

    static func awaiting(_ state: OperationState) -> TimerKey? {
        state.timers.first { state.workflow.deadlines[$0.key.index].id.hasPrefix("awaiting_units:") }?.key
    }

    @Test func unitEventsReplayToTheLiveStateAndRunTheAwaitingClock() throws {
        var (state, events) = try inAction()
        let short = state.recordUnits(
            [
                .unitsAssigned(instance: 0, units: ["p1"], reasons: ["homed in hexi, the dispatch region"]),
                .unitsAwaited(instance: 0, missing: 1, capabilities: ["armed"]),
            ],
            at: .minutes(3), actor: nil)
        events += short.events
        #expect(state.branches[0].assignedUnits == ["p1"])
        #expect(state.branches[0].isAwaitingUnits)
        let key = try #require(Self.awaiting(state))
        #expect(short.effects.contains(.armTimer(key, due: .minutes(3) + 5 * 60_000)), "the default: 5 minutes")
        let filled = state.recordUnits([.unitsAssigned(instance: 0, units: ["p2"], reasons: ["freed"])], at: .minutes(4), actor: nil)
        events += filled.events
        #expect(!state.branches[0].isAwaitingUnits)
        #expect(filled.effects.contains(.cancelTimer(key)))
        let preempted = state.recordUnits(
            [.unitPreempted(instance: 0, unit: "p1", by: "OP-2 patrol", reason: "hostages"), .unitsAwaited(instance: 0, missing: 1)],
            at: .minutes(5), actor: officer)
        events += preempted.events
        #expect(state.escalations.last?.reason == "unit p1 taken from patrol: hostages")
        #expect(preempted.effects.contains { if case .notify("duty_commander", _) = $0 { true } else { false } })
        events += state.recordUnits([.unitsReleased(instance: 0, units: ["p2"], status: .available)], at: .minutes(6), actor: nil).events
        #expect(state.branches[0].assignedUnits.isEmpty)
        // Through the log's payloads and back.
        let stored = events.map { record in (record.at, record.actor, record.event.kind, state.payload(of: record.event)) }
        let replayed = try OperationState.replay(workflow, stored: stored)
        #expect(replayed == state)
        #expect(OperationState(state.snapshot, workflow: workflow) == state, "the projection keeps the units too")
    }

    /// Reproducer: a unit an operator took off a branch (`units status U returning REASON`)
    /// left the branch short with nothing awaited, and the history without the reason.
    @Test func aBranchThatLosesAUnitAwaitsWhatItLacksOfWhatItAskedFor() throws {
        var (state, events) = try inAction()  // patrol asks for 2 units
        events +=
            state.recordUnits(
                [.unitsAssigned(instance: 0, units: ["p1", "p2"], reasons: ["homed", "homed"])], at: .minutes(2), actor: nil
            )
            .events
        let awaited = try #require(state.awaitingAfterLosing(1, of: 0))
        #expect(awaited == .unitsAwaited(instance: 0, missing: 1))
        let released = state.recordUnits(
            [.unitsReleased(instance: 0, units: ["p1"], status: .returning, reason: "officer injured"), awaited], at: .minutes(3),
            actor: officer)
        events += released.events
        #expect(state.describe(released.events[0].event) == "patrol released p1 → returning: officer injured")
        #expect(state.branches[0].isAwaitingUnits)
        #expect(Self.awaiting(state) != nil, "the awaiting-units clock runs")
        #expect(state.awaitingAfterLosing(1, of: 0) == .unitsAwaited(instance: 0, missing: 2))
        // An over-staffed branch that loses a unit still has what it asked for.
        events +=
            state.recordUnits(
                [.unitsAssigned(instance: 0, units: ["p3", "p4"], reasons: ["named", "named"])], at: .minutes(4), actor: nil
            )
            .events
        #expect(state.branches[0].assignedUnits == ["p2", "p3", "p4"])
        #expect(state.awaitingAfterLosing(1, of: 0) == nil)
        let stored = events.map { record in (record.at, record.actor, record.event.kind, state.payload(of: record.event)) }
        #expect(try OperationState.replay(workflow, stored: stored) == state, "the reason survives the payload")
    }

    @Test func aWorkflowSetsTheAwaitingClockAndItsLadder() throws {
        let source = try Repository.text(Repository.fixtures.appendingPathComponent("valid/minimal.yaml"))
        let result = WorkflowLoader.load(
            source: source + "awaiting_units:\n  within: 2m\n  escalation:\n    - {after: 1m, notify: command_center}\n", file: "w.yaml")
        let workflow = try #require(result.workflow, "\(result.diagnostics)")
        let deadline = try #require(workflow.deadlines.first { $0.id == "awaiting_units:patrol" })
        #expect(deadline.within == .fixed(milliseconds: 120_000))
        #expect(deadline.ladder.count == 1)
        let bad = WorkflowLoader.load(source: source + "awaiting_units:\n  witin: 2m\n", file: "w.yaml")
        #expect(bad.workflow == nil)
        #expect(bad.diagnostics.contains { $0.message.contains("witin") }, "\(bad.diagnostics)")
    }
}

/// What the reports make of the unit events: the awaiting-units deadline and the time from
/// dispatch until a branch had all its units.
@Suite struct UnitFactsTests {
    let workflow: Workflow
    let tests: UnitEventTests

    init() throws {
        tests = try UnitEventTests()
        workflow = tests.workflow
    }

    /// Reproducer: a branch short of units at dispatch and filled in time was scored
    /// "dropped", one filled after its deadline "missed" (as if never filled), and the
    /// dispatch → all units assigned interval was 0 s because the dispatch's first units
    /// counted before the shortfall recorded in the same moment.
    @Test func aShortBranchFilledInTimeIsMetAndFilledLateIsMetLate() throws {
        var (state, events) = try tests.inAction()  // patrol dispatched at minute 2
        func units(_ recorded: [OperationEvent], _ minute: Int64) {
            events += state.recordUnits(recorded, at: .minutes(minute), actor: nil).events
        }
        units([.unitsAssigned(instance: 0, units: ["p1"], reasons: ["homed"]), .unitsAwaited(instance: 0, missing: 1)], 2)
        units([.unitsAssigned(instance: 0, units: ["p2"], reasons: ["freed"])], 4)  // filled 2 minutes in: met
        units([.unitPreempted(instance: 0, unit: "p1", by: "OP-2 patrol", reason: "hostages"), .unitsAwaited(instance: 0, missing: 1)], 5)
        let key = try #require(UnitEventTests.awaiting(state))
        events += try state.handle(.timerFired(key), at: .minutes(10), actor: nil).events  // due 5 minutes after: missed
        units([.unitsAssigned(instance: 0, units: ["p3"], reasons: ["freed"])], 12)  // …and filled late
        let awaiting = OperationState.deadlineHistory(workflow, events).filter {
            workflow.deadlines[$0.deadline].id == "awaiting_units:patrol"
        }
        #expect(awaiting.map(\.outcome) == [.met, .metLate])
        #expect(awaiting.map(\.settledAt) == [.minutes(4), .minutes(12)])
        events += try state.handle(.cancel(reason: "duplicate"), at: .minutes(13), actor: nil).events  // facts are of ended operations
        let facts = try #require(OperationFacts(state, events: events))
        #expect(facts.branches[0].dispatchToAssigned == Int64(2 * 60_000), "all units from minute 2 to minute 4")
        #expect(!facts.branches[0].unitsShort)
    }

    @Test func aBranchNeverFullyStaffedHasNoTimeToAssign() throws {
        var (state, events) = try tests.inAction()
        events +=
            state.recordUnits(
                [.unitsAssigned(instance: 0, units: ["p1"], reasons: ["homed"]), .unitsAwaited(instance: 0, missing: 1)], at: .minutes(2),
                actor: nil
            ).events
        events += try state.handle(.cancel(reason: "duplicate"), at: .minutes(3), actor: nil).events
        let facts = try #require(OperationFacts(state, events: events))
        #expect(facts.branches[0].dispatchToAssigned == nil)
        #expect(facts.branches[0].unitsShort, "counted beside the time to assign")
    }
}
