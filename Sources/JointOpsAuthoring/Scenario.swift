public import JointOpsCore

/// A scenario: one operation driven through the engine on a virtual clock, with what
/// should happen along the way (see docs/workflow-language.md, "Scenarios").
public struct Scenario: Sendable {
    public var name: String
    public var workflow: String?
    public var operationID: String
    public var region: String
    public var startAt: Instant
    public var attributes: [String: String]
    public var timeline: [Entry]

    public struct Entry: Sendable {
        /// Milliseconds after the start.
        public var offset: Int64
        public var action: Action
        public var location: SourceLocation
    }

    public enum Action: Sendable {
        /// A command, and the text its refusal must contain if it is expected to be refused.
        case command(Command, refused: String?)
        case expect(Expectation)
    }

    public struct Expectation: Sendable {
        public var phase: String?
        /// Branch instance → step.
        public var steps: [(String, String)] = []
        /// Branch instance → status.
        public var statuses: [(String, String)] = []
        /// Rungs fired so far, as `DEADLINE/RUNG`.
        public var escalations: [String]?
        public var held: Bool?
    }

    /// 2026-11-29T08:00:00+08:00: the virtual clock's start when a scenario gives none.
    public static let defaultStart = Instant(milliseconds: 1_795_910_400_000)
}
