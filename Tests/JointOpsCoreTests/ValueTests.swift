import JointOpsCore
import Testing

@Suite struct DurationTests {
    @Test(arguments: [
        ("90s", Int64(90_000)), ("15m", 900_000), ("1h30m", 5_400_000), ("7d", 604_800_000), ("2w", 1_209_600_000), ("0m", 0),
    ])
    func fixedDurationsParse(_ text: String, _ milliseconds: Int64) {
        #expect(WorkflowDuration(parsing: text) == .fixed(milliseconds: milliseconds))
    }

    @Test(arguments: ["", "15", "m", "15 minutes", "1.5h", "-5m", "5wd3h", "0wd", "15M"])
    func malformedDurationsAreRejected(_ text: String) {
        #expect(WorkflowDuration(parsing: text) == nil)
    }

    /// Reproducer: `9999999999w` was called malformed ("write a number and a unit"), and
    /// `9999999999wd` was accepted, its timer then counting ten billion working days.
    @Test(arguments: ["9999999999w", "1000001s", "99999999999999999999w", "1h1000001m", "1000001wd", "9999999999wd"])
    func durationsWithTooLargeANumberAreSaidToBe(_ text: String) {
        #expect(WorkflowDuration.parse(text) == .failure(.tooLarge))
    }

    @Test func theLargestNumberIsAllowed() {
        #expect(WorkflowDuration(parsing: "1000000w") == .fixed(milliseconds: 1_000_000 * 604_800_000))
        #expect(WorkflowDuration(parsing: "1000000wd") == .workingDays(1_000_000))
        #expect(WorkflowDuration.parse("1000001x") == .failure(.malformed), "malformed before too large")
    }

    @Test func workingDaysSkipTheWeekendInTheWorkflowsTimeZone() throws {
        let beijing = 8 * 3600
        let friday = try #require(ISO8601.parse("2026-11-27T16:00:00+08:00"))
        #expect(WorkflowDuration.workingDays(1).after(friday, offsetSeconds: beijing) == ISO8601.parse("2026-11-30T16:00:00+08:00"))
        #expect(WorkflowDuration.workingDays(5).after(friday, offsetSeconds: beijing) == ISO8601.parse("2026-12-04T16:00:00+08:00"))
        // 01:00 on Saturday in Beijing is still Friday in UTC: the workflow's zone decides.
        let saturdayInBeijing = try #require(ISO8601.parse("2026-11-28T01:00:00+08:00"))
        #expect(
            WorkflowDuration.workingDays(1).after(saturdayInBeijing, offsetSeconds: beijing) == ISO8601.parse("2026-11-30T01:00:00+08:00"))
    }

    @Test func instantsRoundTripThroughISO8601() throws {
        let instant = try #require(ISO8601.parse("2026-11-29T08:00:00.250+08:00"))
        #expect(instant.milliseconds == 1_795_910_400_250)
        #expect(ISO8601.format(instant) == "2026-11-29T00:00:00.250Z")
        #expect(ISO8601.format(instant, offsetSeconds: 8 * 3600) == "2026-11-29T08:00:00.250+08:00")
        #expect(ISO8601.parse("2026-13-01T00:00:00Z") == nil)
        #expect(ISO8601.parse("yesterday") == nil)
    }

    /// The digit-by-digit formatter against fixed texts at the edges, and round trips over
    /// instants and offsets spread across years 1970–2200.
    @Test func iso8601FormatsEveryFieldWithItsZeroes() throws {
        #expect(ISO8601.format(Instant(milliseconds: 0)) == "1970-01-01T00:00:00Z")
        #expect(ISO8601.format(Instant(milliseconds: 7)) == "1970-01-01T00:00:00.007Z")
        #expect(ISO8601.format(Instant(milliseconds: -1)) == "1969-12-31T23:59:59.999Z")
        #expect(
            ISO8601.format(Instant(milliseconds: 1_795_910_400_250), offsetSeconds: -(3 * 3600 + 30 * 60))
                == "2026-11-28T20:30:00.250-03:30")
        #expect(ISO8601.format(Instant(milliseconds: 253_402_300_799_000)) == "9999-12-31T23:59:59Z")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let instant = Instant(milliseconds: Int64.random(in: 0...7_258_118_400_000, using: &generator))
            let offset = Int.random(in: -14...14, using: &generator) * 1800
            let text = ISO8601.format(instant, offsetSeconds: offset)
            #expect(ISO8601.parse(text) == instant, "\(text)")
        }
    }
}

@Suite struct GuardTests {
    let workflow: Workflow
    init() throws { workflow = try Repository.minimal() }

    func state(priority: String, type: String? = nil) throws -> OperationState {
        var attributes = ["priority": priority]
        attributes["incident_type"] = type
        return try OperationState.start(workflow, id: "OP-1", region: "hexi", attributes: attributes, at: .t0, actor: nil).0
    }

    @Test func priorityComparesByUrgency() throws {
        var urgent = try state(priority: "P1")
        _ = try urgent.handle(.fire(event: "assess"), at: .minutes(1), actor: nil)
        let guardedTransition = workflow.phases[1].events[0].alternatives[0]
        #expect(guardedTransition.guardSource == "priority <= P2")
        #expect(guardedTransition.guardCondition?.evaluate(in: urgent) == true)
        #expect(guardedTransition.guardCondition?.evaluate(in: try state(priority: "P3")) == false)
    }

    @Test func anUnsetAttributeMakesAComparisonFalse() throws {
        let source = """
            workflow: g
            version: 1
            title: g
            attributes:
              kind: {type: enum, values: [a, b]}
              n: {type: int}
            phases:
              start:
                initial: true
                on:
                  go:
                    - {to: done, when: "kind in [a, b] or n >= 3"}
                    - {to: start, when: "not (kind == a) and branch.x == not_dispatched"}
              done: {}
            branches:
              x:
                kind: other
                steps:
                  s: {initial: true, next: [stood_down]}
                  stood_down: {end: stood_down}
            close: {from: [done], dispositions: [ok]}
            """
        let result = WorkflowLoader.load(source: source, file: "g.yaml")
        let workflow = try #require(result.workflow, "\(result.diagnostics)")
        let (unset, _) = try OperationState.start(workflow, id: "A", region: "r", attributes: [:], at: .t0, actor: nil)
        let alternatives = workflow.phases[0].events[0].alternatives
        #expect(alternatives[0].guardCondition?.evaluate(in: unset) == false)
        #expect(
            alternatives[1].guardCondition?.evaluate(in: unset) == true, "kind is unset, so 'kind == a' is false and its negation holds")
        let (set, _) = try OperationState.start(workflow, id: "B", region: "r", attributes: ["kind": "b", "n": "1"], at: .t0, actor: nil)
        #expect(alternatives[0].guardCondition?.evaluate(in: set) == true)
        #expect(alternatives[1].guardCondition?.evaluate(in: set) == true)
    }
}
