/// Identifies one armed timer of an operation; stable across replay.
public struct TimerKey: Sendable, Hashable, Codable, Comparable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, Codable {
        /// A deadline (and, once missed, its escalation ladder); `index` is the deadline.
        case deadline
        /// A phase's `after:` timer; `index` is the timer within the phase in `instance`.
        case phase
    }

    public var kind: Kind
    public var index: Int
    /// The branch instance a branch deadline belongs to, the phase of a phase timer,
    /// or -1 for an operation-wide deadline.
    public var instance: Int

    public init(kind: Kind, index: Int, instance: Int) {
        self.kind = kind
        self.index = index
        self.instance = instance
    }

    public var description: String { "\(kind.rawValue):\(index):\(instance)" }

    /// Timers are kept in key order, so a state restored from storage equals the live one.
    public static func < (lhs: TimerKey, rhs: TimerKey) -> Bool {
        (lhs.kind == .phase ? 1 : 0, lhs.index, lhs.instance) < (rhs.kind == .phase ? 1 : 0, rhs.index, rhs.instance)
    }

    /// Parses `description` back.
    public init?(_ text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 3, let kind = Kind(rawValue: String(parts[0])), let index = Int(parts[1]),
            let instance = Int(parts[2])
        else { return nil }
        self.init(kind: kind, index: index, instance: instance)
    }
}

/// A timer the daemon must keep: fire `key` at `due`.
public struct ArmedTimer: Sendable, Hashable {
    public var key: TimerKey
    public var due: Instant

    public init(key: TimerKey, due: Instant) {
        self.key = key
        self.due = due
    }
}
