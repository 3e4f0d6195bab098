import JointOpsCore
import Testing

/// Durations are bounded (10 years), and no duration or time arithmetic traps or wraps:
/// `within: 999999999999wd` crashed the validator, and jointopsd at every start (a crash
/// loop); a due time past the end of `Int64` wrapped into the past, and its lateness trapped.
@Suite struct DurationLimitTests {
    /// The minimal fixture with its patrol deadline's `within` replaced.
    static func loadMinimal(within: String) throws -> WorkflowLoader.Result {
        let source = try Repository.text(Repository.fixtures.appendingPathComponent("valid/minimal.yaml"))
        let edited = source.replacingOccurrences(of: "    within: 10m\n", with: "    within: \(within)\n")
        #expect(edited != source)
        return WorkflowLoader.load(source: edited, file: "w.yaml")
    }

    @Test(arguments: [
        ("1000000wd", "2600wd (10 years)"), ("2601wd", "2600wd (10 years)"), ("3651d", "3650d (10 years)"),
        ("522w", "3650d (10 years)"), ("1000000w1000000d1000000h", "3650d (10 years)"),
    ])
    func aDurationLongerThanTheMaximumIsRefusedSayingSo(within: String, maximum: String) throws {
        let result = try Self.loadMinimal(within: within)
        #expect(result.workflow == nil)
        let messages = result.diagnostics.map(\.message)
        #expect(
            messages.contains("duration '\(within)' is longer than the maximum of \(maximum) for 'within' of deadline 'patrol_on_scene'"),
            "\(messages.map { $0.prefix(200) })")
    }

    /// Reproducer: `1m1m` was taken as two minutes; sixteen `1000000w` in a row overflowed
    /// the sum. A unit given twice is a slip, said so.
    @Test(arguments: ["1m1m", "1h30m1h", String(repeating: "1000000w", count: 16)])
    func aUnitGivenTwiceIsRefused(within: String) throws {
        let result = try Self.loadMinimal(within: within)
        #expect(result.workflow == nil)
        let unit = within == "1m1m" ? "m" : within.hasPrefix("1h") ? "h" : "w"
        // A message quotes at most 80 characters of the input.
        let quoted = within.count > 80 ? within.prefix(80) + "…" : within
        #expect(
            result.diagnostics.map(\.message).contains(
                "duration '\(quoted)' for 'within' of deadline 'patrol_on_scene' gives '\(unit)' more than once: write each unit once, largest first, e.g. 1h30m"
            ), "\(result.diagnostics.map { $0.message.prefix(200) })")
    }

    /// The reviewer's reproducer: refused (as longer than the maximum, or, where a number
    /// over 1000000 is its own error, as too large), not a crash.
    @Test func aHugeCountOfWorkingDaysIsAnErrorNotACrash() throws {
        let result = try Self.loadMinimal(within: "999999999999wd")
        #expect(result.workflow == nil)
        #expect(result.diagnostics.contains { $0.message.hasPrefix("duration '999999999999wd' ") }, "\(result.diagnostics)")
    }

    @Test(arguments: ["2600wd", "3650d", "521w3d", "87600h"])
    func theMaximumItselfIsAccepted(within: String) throws {
        let result = try Self.loadMinimal(within: within)
        #expect(result.workflow != nil, "\(result.diagnostics)")
    }

    @Test func timeArithmeticSaturatesInsteadOfTrappingOrWrapping() {
        let end = Instant(milliseconds: .max)
        let start = Instant(milliseconds: .min)
        #expect(end + 1 == end)
        #expect(Instant.t0 + .max == end, "a due time never wraps into the past")
        #expect(start + -1 == start)
        #expect(start - 1 == start)
        #expect(end - -1 == end)
        #expect(end.since(start) == .max)
        #expect(start.since(end) == .min)
        #expect(Instant.t0.since(.t0 + 1000) == -1000)
        #expect(WorkflowDuration.workingDays(.max).approximateMilliseconds == .max)
        #expect(WorkflowDuration.workingDays(.max).after(.t0, offsetSeconds: 8 * 3600) > .t0)
    }

    /// The linear day-by-day count the working days were computed with, kept as the reference.
    static func workingDaysByCounting(_ count: Int, after start: Instant, offsetSeconds: Int) -> Instant {
        let day: Int64 = 86_400_000
        let offset = Int64(offsetSeconds) * 1000
        var local = start.milliseconds + offset
        var remaining = count
        while remaining > 0 {
            local += day
            let weekday = ((local / day % 7) + 7) % 7  // 0 = Thursday … 2 = Saturday, 3 = Sunday
            if weekday != 2 && weekday != 3 { remaining -= 1 }
        }
        return Instant(milliseconds: local - offset)
    }

    @Test(arguments: [8 * 3600, 0, -5 * 3600])
    func workingDaysAreCountedByWeeksWithTheSameResultAsDayByDay(offsetSeconds: Int) {
        // Every 5 hours across two weeks (each weekday and weekend, day and night), 1–40 days.
        for hour in stride(from: Int64(0), to: 14 * 24, by: 5) {
            let start = Instant.t0 + hour * 3_600_000 + 1234
            for count in 1...40 {
                #expect(
                    WorkflowDuration.workingDays(count).after(start, offsetSeconds: offsetSeconds)
                        == Self.workingDaysByCounting(count, after: start, offsetSeconds: offsetSeconds),
                    "\(count)wd after \(start)")
            }
        }
    }

    @Test func aBillionWorkingDaysTakeNoTime() {
        let monday = Instant.t0 + 86_400_000  // 2026-11-30T08:00:00+08:00
        // From a weekday, every 5 working days are 7 calendar days.
        #expect(
            WorkflowDuration.workingDays(1_000_000_000).after(monday, offsetSeconds: 8 * 3600)
                == monday + 1_400_000_000 * 86_400_000)
    }
}
