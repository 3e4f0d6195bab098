import JointOpsCore
import Testing

/// A command that reaches an operation after one of its deadlines fell due, before the timer
/// service fired it (a busy engine, a storm of deadlines, a restart), finds it missed: the
/// miss (and any rung due by then) is recorded first, at the command's time with its
/// lateness, then the command. Reproducer (a deadline-storm audit): a step met 43 ms after
/// its deadline was recorded as met (no miss, no rung, `met` in the report); a hold 3 ms
/// after one put the miss off until the resume, 4 s later, recorded as 20 ms late.
@Suite struct DeadlineCatchUpTests {
    let engine: EngineTests

    init() throws { engine = try EngineTests() }

    @Test func aStepMetAfterItsDeadlineFellDueIsRecordedAsMissedFirst() throws {
        var state = try engine.inAction()  // the patrol's on-scene deadline is due at 12 minutes
        let late = try state.handle(
            .advance(branch: "patrol", to: "on_scene", outcome: nil), at: .minutes(12) + 43, actor: engine.officer)
        #expect(late.events.first?.event == .deadlineMissed(engine.patrolDeadline, escalation: 1, latenessMilliseconds: 43))
        #expect(late.events.first?.actor == nil, "the miss is the timer's, not the officer's")
        #expect(late.events.last?.event.kind == "step_entered")
        #expect(late.events.last?.actor == engine.officer)
        #expect(state.escalations.count == 1)
        #expect(!late.effects.contains(.armTimer(engine.patrolDeadline, due: .minutes(12))))
        // The timer service, a moment later, finds nothing left to fire.
        #expect(throws: Refusal.self) { try state.handle(.timerFired(engine.patrolDeadline), at: .minutes(12) + 50, actor: nil) }
    }

    @Test func aStepMetAtItsDueTimeIsMet() throws {
        var state = try engine.inAction()
        let met = try state.handle(.advance(branch: "patrol", to: "on_scene", outcome: nil), at: .minutes(12), actor: engine.officer)
        #expect(met.events.map(\.event.kind) == ["step_entered"])
        #expect(state.escalations.isEmpty)
    }

    @Test func aHoldAfterADeadlineFellDueRecordsTheMissFirstWithItsLateness() throws {
        var state = try engine.inAction()
        let hold = try state.handle(.hold(reason: "awaiting warrant"), at: .minutes(12) + 3, actor: engine.officer)
        #expect(hold.events.first?.event == .deadlineMissed(engine.patrolDeadline, escalation: 1, latenessMilliseconds: 3))
        #expect(hold.events.last?.event == .held(reason: "awaiting warrant"))
    }

    @Test func aRefusedCommandAfterADeadlineFellDueChangesNothing() throws {
        var state = try engine.inAction()
        let before = state
        #expect(throws: Refusal.self) {
            try state.handle(.advance(branch: "patrol", to: "nowhere", outcome: nil), at: .minutes(13), actor: engine.officer)
        }
        #expect(state == before)
        // The timer service then fires it, a minute late.
        let miss = try state.handle(.timerFired(engine.patrolDeadline), at: .minutes(13), actor: nil)
        #expect(miss.events.first?.event == .deadlineMissed(engine.patrolDeadline, escalation: 1, latenessMilliseconds: 60_000))
    }
}
