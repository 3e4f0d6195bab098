/// A duration as a workflow author writes it: `90s`, `15m`, `1h30m`, `7d`, `2w`, or `5wd`
/// (working days, Monday to Friday in the workflow's time zone).
public enum WorkflowDuration: Sendable, Hashable, CustomStringConvertible {
    case fixed(milliseconds: Int64)
    case workingDays(Int)

    public static let zero = WorkflowDuration.fixed(milliseconds: 0)

    /// The largest number a duration may have before its unit (`1000000w`, `1000000wd`): a
    /// larger one is a slip, and working days are counted one by one when a timer is armed.
    public static let largestNumber = 1_000_000

    /// Why a text is not a duration.
    public enum ParseError: Error, Sendable, Hashable {
        /// Not written as number–unit pairs.
        case malformed
        /// Written so, but a number is larger than `largestNumber`.
        case tooLarge
    }

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
            if let value = Int64(digits), value <= largestNumber {
                total += value * unit
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
    /// time zone `offsetSeconds` east of UTC.
    public func after(_ start: Instant, offsetSeconds: Int) -> Instant {
        switch self {
        case .fixed(let milliseconds):
            return start + milliseconds
        case .workingDays(let count):
            let dayMillis: Int64 = 86_400_000
            let offset = Int64(offsetSeconds) * 1000
            var local = start.milliseconds + offset
            var remaining = count
            while remaining > 0 {
                local += dayMillis
                // 1970-01-01 was a Thursday: weekday 0 = Thursday … 2 = Saturday, 3 = Sunday.
                let weekday = ((ISO8601.floorDiv(local, dayMillis) % 7) + 7) % 7
                if weekday != 2 && weekday != 3 { remaining -= 1 }
            }
            return Instant(milliseconds: local - offset)
        }
    }

    /// Only meaningful for fixed durations: its length in milliseconds (working days count
    /// as whole days, for comparisons by the validator).
    public var approximateMilliseconds: Int64 {
        switch self {
        case .fixed(let milliseconds): milliseconds
        case .workingDays(let days): Int64(days) * 86_400_000
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
