import JointOpsCore
import Testing

/// A ladder rung `after: 1wd` counts working days, as deadlines and phase timers do.
@Suite struct WorkingDayRungTests {
    static let source = """
        workflow: wd-ladder
        version: 1
        title: A ladder in working days
        timezone: "+08:00"
        phases:
          reported:
            initial: true
            on: {assess: reviewing}
          reviewing: {}
        deadlines:
          - id: review
            reach: reviewing
            from: started
            within: 1h
            escalation:
              - {after: 0m, notify: branch_lead}
              - {after: 1wd, notify: duty_commander}
        close:
          from: [reviewing]
          dispositions: [resolved]
        """

    /// Reproducer: the rung fired on Saturday 17:00, a calendar day after a Friday miss.
    @Test func aWorkingDayRungAfterAFridayMissFallsDueOnMonday() throws {
        let loaded = WorkflowLoader.load(source: Self.source, file: "wd-ladder.yaml")
        let workflow = try #require(loaded.workflow, "\(loaded.diagnostics)")
        let friday1600 = Instant(milliseconds: 1_795_766_400_000)  // 2026-11-27T16:00+08:00
        var (state, _) = try OperationState.start(workflow, id: "OP-WD", region: "hexi", attributes: [:], at: friday1600, actor: nil)
        let deadline = try #require(state.timers.first)
        #expect(deadline.due == friday1600 + 3_600_000)
        _ = try state.handle(.timerFired(deadline.key), at: deadline.due, actor: nil)
        let rung = try #require(state.timers.first { $0.key == deadline.key })
        let monday1700 = Instant(milliseconds: 1_796_029_200_000)  // 2026-11-30T17:00+08:00
        #expect(rung.due == monday1700, "due \(rung.due)")
    }
}
