/// A moment in time as milliseconds since the Unix epoch.
///
/// Core never reads a clock: every command carries the `Instant` it happened at.
public struct Instant: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.milliseconds < rhs.milliseconds }

    /// `rhs` milliseconds later (earlier if negative). Saturates at the ends of time instead
    /// of trapping or wrapping: a due time must never come out in the past.
    public static func + (lhs: Instant, rhs: Int64) -> Instant {
        let (sum, overflow) = lhs.milliseconds.addingReportingOverflow(rhs)
        return Instant(milliseconds: overflow ? (rhs > 0 ? .max : .min) : sum)
    }

    /// `rhs` milliseconds earlier; saturates like `+`.
    public static func - (lhs: Instant, rhs: Int64) -> Instant {
        let (difference, overflow) = lhs.milliseconds.subtractingReportingOverflow(rhs)
        return Instant(milliseconds: overflow ? (rhs > 0 ? .min : .max) : difference)
    }

    /// Milliseconds from `other` to `self`; saturates at `Int64.min` and `.max` instead of
    /// trapping.
    public func since(_ other: Instant) -> Int64 {
        let (difference, overflow) = milliseconds.subtractingReportingOverflow(other.milliseconds)
        return overflow ? (other.milliseconds < 0 ? .max : .min) : difference
    }

    public var description: String { ISO8601.format(self) }

    public init(from decoder: any Decoder) throws {
        milliseconds = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(milliseconds)
    }
}
