import JointOpsCore
import Testing

/// What `ISO8601.parse` takes and refuses. Reproducers: `2026-02-31` was read as 3 March
/// and `2026-02-29` as 1 March; an offset of +23:59 was taken; `.5` and `.123456` were
/// refused, and so were `z` and `+0800`.
@Suite struct ISO8601ParsingTests {
    @Test(arguments: [
        ("2026-02-31T08:00:00+08:00", "2026-02-31 does not exist: February 2026 has 28 days"),
        ("2026-02-29T00:00:00Z", "2026-02-29 does not exist: February 2026 has 28 days"),
        ("2100-02-29T00:00:00Z", "2100-02-29 does not exist: February 2100 has 28 days"),
        ("2026-04-31T00:00:00Z", "2026-04-31 does not exist: April 2026 has 30 days"),
        ("2026-11-29T08:00:00+18:01", "the offset +18:01 is beyond ±18:00"),
        ("2026-11-29T08:00:00-2359", "the offset -23:59 is beyond ±18:00"),
    ])
    func aDayThatDoesNotExistOrAnOffsetBeyondEighteenHoursIsRefusedSayingWhy(_ text: String, _ reason: String) {
        #expect(ISO8601.parse(text) == nil)
        #expect(ISO8601.problem(text) == reason)
    }

    @Test(arguments: [
        "2026-11-29T08:00:00", "2026-11-29T08:00:00.Z", "2026-11-29T08:00:00.1234567890Z", "2026-11-29T08:00:00+08:60",
        "2026-11-29T08:00:00+8:00", "2026-11-29T08:00:00+08", "2026-11-29T08:00:00zz", "2026-13-01T00:00:00Z", "yesterday",
    ])
    func malformedTimesAreRefusedWithoutAReasonOfTheirOwn(_ text: String) {
        #expect(ISO8601.parse(text) == nil)
        #expect(ISO8601.problem(text) == nil, "the caller says what form to use")
    }

    @Test(arguments: [
        ("2024-02-29T00:00:00Z", Int64(1_709_164_800_000)), ("2000-02-29T00:00:00Z", 951_782_400_000),
        ("2026-11-29T08:00:00+08:00", 1_795_910_400_000), ("2026-11-29T00:00:00z", 1_795_910_400_000),
        ("2026-11-29T08:00:00+0800", 1_795_910_400_000), ("2026-11-28T20:30:00-0330", 1_795_910_400_000),
        ("2026-11-29T14:00:00+18:00", 1_795_896_000_000), ("2026-11-29T00:00:00.5Z", 1_795_910_400_500),
        ("2026-11-29T00:00:00.25Z", 1_795_910_400_250), ("2026-11-29T00:00:00.123Z", 1_795_910_400_123),
        ("2026-11-29T00:00:00.123456Z", 1_795_910_400_123), ("2026-11-29T00:00:00.999999999+00:00", 1_795_910_400_999),
    ])
    func validTimesParse(_ text: String, _ milliseconds: Int64) {
        #expect(ISO8601.parse(text)?.milliseconds == milliseconds, "\(text)")
        #expect(ISO8601.problem(text) == nil)
    }
}
