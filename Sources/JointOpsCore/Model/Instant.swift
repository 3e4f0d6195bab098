/// A moment in time as milliseconds since the Unix epoch.
///
/// Core never reads a clock: every command carries the `Instant` it happened at.
public struct Instant: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    public static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.milliseconds < rhs.milliseconds }

    public static func + (lhs: Instant, rhs: Int64) -> Instant {
        Instant(milliseconds: lhs.milliseconds &+ rhs)
    }

    /// Milliseconds from `other` to `self`.
    public func since(_ other: Instant) -> Int64 { milliseconds - other.milliseconds }

    public var description: String { ISO8601.format(self) }

    public init(from decoder: any Decoder) throws {
        milliseconds = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(milliseconds)
    }
}
