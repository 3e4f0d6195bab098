import JointOpsCore
import Testing

/// Every timer that fires late — after an outage, say — records how late in its event, and
/// the history says it: a missed deadline, each ladder rung, and a phase timer.
@Suite struct LateTimerTests {
    static let source = """
        workflow: late-timers
        version: 1
        title: Timers fired late
        phases:
          reported:
            initial: true
            on: {assess: reviewing}
            after:
              - {delay: 4s, event: assess}
          reviewing: {}
        deadlines:
          - id: review
            reach: reviewing
            from: started
            within: 1s
            escalation:
              - {after: 0s, notify: branch_lead}
              - {after: 1s, notify: duty_commander}
        close:
          from: [reviewing]
          dispositions: [resolved]

        """

    /// Reproducer (a chaos soak): a rung fired 8 s late said nothing of it in the history
    /// (its event had the lateness), and a phase timer's event did not record it at all.
    @Test func aLateRungAndALatePhaseTimerRecordAndSayHowLate() throws {
        let workflow = try #require(WorkflowLoader.load(source: Self.source, file: "late-timers.yaml").workflow)
        var (state, start) = try OperationState.start(workflow, id: "OP-L", region: "hexi", attributes: [:], at: .t0, actor: nil)
        var events = start.events
        let deadline = TimerKey(kind: .deadline, index: 0, instance: -1)
        let phaseTimer = TimerKey(kind: .phase, index: 0, instance: 0)
        let late = Instant.t0 + 10_000  // due at 1 s (the deadline and its first rung), 2 s (the second rung), 4 s (the phase timer)
        // Firing the deadline fires everything due by then, earliest first, each with its lateness.
        let fired = try state.handle(.timerFired(deadline), at: late, actor: nil)
        events += fired.events
        #expect(
            fired.events.map { state.describe($0.event) } == [
                "deadline review missed (escalation 1, 9s late)", "escalation 1 rung 1 of review: notify branch_lead (9s late)",
                "escalation 1 rung 2 of review: notify duty_commander (8s late)", "timer 4s in reported elapsed → assess (6s late)",
                "phase → reviewing (event assess)",
            ])
        #expect(fired.events.contains { $0.event == .phaseTimerElapsed(phaseTimer, latenessMilliseconds: 6000, refusal: nil) })
        #expect(throws: Refusal.self, "each timer fired once") { try state.handle(.timerFired(phaseTimer), at: late, actor: nil) }
        // Stored and read back, as the store and History do.
        let stored = events.map { record in (record.at, record.actor, record.event.kind, state.payload(of: record.event)) }
        #expect(stored.first { $0.2 == "phase_timer_elapsed" }?.3["lateness_ms"] == .int(6000))
        #expect(try OperationState.replayRecording(workflow, stored: stored).events == events)
    }
}
