/// A duration as a workflow author writes it: `90s`, `15m`, `1h30m`, `7d`, `2w`, or `5wd`
/// (working days, Monday to Friday in the workflow's time zone).
public enum WorkflowDuration: Sendable, Hashable, CustomStringConvertible {
    case fixed(milliseconds: Int64)
    case workingDays(Int)

    public static let zero = WorkflowDuration.fixed(milliseconds: 0)

    /// The largest number a duration may have before its unit (`1000000w`, `1000000wd`): a
    /// larger one is a slip (a duration must also be within `maximumDays`).
    public static let largestNumber = 1_000_000

    /// Why a text is not a duration.
    public enum ParseError: Error, Sendable, Hashable {
        /// Not written as number–unit pairs.
        case malformed
        /// Written so, but a number is larger than `largestNumber`.
        case tooLarge
        /// A unit given twice (`1m1m`): a slip, not a sum to take silently.
        case repeatedUnit(Character)
    }

    /// The longest duration a workflow may hold: 10 years (3650 days, or 2600 working
    /// days). Longer ones are refused by the validator (nothing real waits longer), which
    /// keeps every due time jointopsd computes far from the ends of `Instant` and within
    /// four-digit years.
    public static let maximumDays: Int64 = 3650
    public static let maximumWorkingDays = 2600

    /// Whether it is longer than the maximum (`maximumDays`, `maximumWorkingDays`).
    public var exceedsMaximum: Bool {
        switch self {
        case .fixed(let milliseconds): milliseconds > Self.maximumDays * Self.dayMilliseconds
        case .workingDays(let days): days > Self.maximumWorkingDays
        }
    }

    /// The maximum of this kind of duration, as an author writes it.
    public var maximumDescription: String {
        switch self {
        case .fixed: "\(Self.maximumDays)d (10 years)"
        case .workingDays: "\(Self.maximumWorkingDays)wd (10 years)"
        }
    }

    private static let dayMilliseconds: Int64 = 86_400_000

    /// Parses the author's notation; nil when it is not a duration (`parse` says why).
    public init?(parsing text: String) {
        guard case .success(let duration) = Self.parse(text) else { return nil }
        self = duration
    }

    /// Parses the author's notation, or says why it is not a duration.
    public static func parse(_ text: String) -> Result<WorkflowDuration, ParseError> {
        if text.hasSuffix("wd") {
            let digits = text.dropLast(2)
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return .failure(.malformed) }
            guard let days = Int(digits), days <= largestNumber else { return .failure(.tooLarge) }
            return days > 0 ? .success(.workingDays(days)) : .failure(.malformed)
        }
        var total: Int64 = 0
        var digits = ""
        var sawUnit = false
        var tooLarge = false
        var units: Set<Character> = []
        for character in text {
            if character.isASCII, character.isNumber {
                digits.append(character)
                continue
            }
            let unit: Int64
            switch character {
            case "s": unit = 1000
            case "m": unit = 60_000
            case "h": unit = 3_600_000
            case "d": unit = 86_400_000
            case "w": unit = 604_800_000
            default: return .failure(.malformed)
            }
            guard !digits.isEmpty else { return .failure(.malformed) }
            guard units.insert(character).inserted else { return .failure(.repeatedUnit(character)) }
            if let value = Int64(digits), value <= largestNumber {
                // At most 6·10¹⁴ each, but enough of them would overflow: saturate (the
                // validator refuses anything near it as longer than the maximum).
                let (sum, overflow) = total.addingReportingOverflow(value * unit)
                total = overflow ? .max : sum
            } else {
                tooLarge = true
            }
            digits = ""
            sawUnit = true
        }
        guard sawUnit, digits.isEmpty else { return .failure(.malformed) }
        return tooLarge ? .failure(.tooLarge) : .success(.fixed(milliseconds: total))
    }

    /// The moment this long after `start`; working days skip Saturdays and Sundays in the
    /// time zone `offsetSeconds` east of UTC. Saturates at the end of time (`Instant.+`).
    public func after(_ start: Instant, offsetSeconds: Int) -> Instant {
        switch self {
        case .fixed(let milliseconds):
            return start + milliseconds
        case .workingDays(let count):
            let dayMillis = Self.dayMilliseconds
            let offset = Int64(offsetSeconds) * 1000
            var local = start + offset
            // Any 7 days in a row hold 5 working days, and the 7th day is the same weekday as
            // the start: whole weeks first, keeping at least one working day (from a weekend
            // start, 5wd ends on the Friday, not a week later), then day by day — at most 7.
            let weeks = Int64(max(0, count - 1) / 5)
            let (span, overflow) = weeks.multipliedReportingOverflow(by: 7 * dayMillis)
            local = local + (overflow ? .max : span)
            var remaining = count - Int(weeks) * 5
            while remaining > 0, local.milliseconds < Int64.max - dayMillis {
                local = local + dayMillis
                // 1970-01-01 was a Thursday: weekday 0 = Thursday … 2 = Saturday, 3 = Sunday.
                let weekday = ((ISO8601.floorDiv(local.milliseconds, dayMillis) % 7) + 7) % 7
                if weekday != 2 && weekday != 3 { remaining -= 1 }
            }
            return local - offset
        }
    }

    /// Only meaningful for fixed durations: its length in milliseconds (working days count
    /// as whole days, for comparisons by the validator). Saturates at `Int64.max`.
    public var approximateMilliseconds: Int64 {
        switch self {
        case .fixed(let milliseconds):
            return milliseconds
        case .workingDays(let days):
            let (product, overflow) = Int64(days).multipliedReportingOverflow(by: Self.dayMilliseconds)
            return overflow ? .max : product
        }
    }

    public var description: String {
        switch self {
        case .workingDays(let days): return "\(days)wd"
        case .fixed(let milliseconds):
            if milliseconds == 0 { return "0s" }
            var rest = milliseconds / 1000
            var text = ""
            for (unit, size) in [("d", Int64(86_400)), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
                text += "\(rest / size)\(unit)"
                rest %= size
            }
            return text
        }
    }
}
