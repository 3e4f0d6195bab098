/// A member of the public's rating of a closed operation (好差评): answers to the
/// before-, during- and after-service questions, an overall score and a comment. Every
/// answer and the score run from 1 (very dissatisfied) to 5 (very satisfied).
public struct ServiceRating: Sendable, Hashable {
    /// Before service: was the call answered and the report taken promptly and clearly?
    public var before: Int
    /// During service: did the officers arrive in time and act courteously and effectively?
    public var during: Int
    /// After service: was the caller told the outcome, and is the problem resolved?
    public var after: Int
    public var score: Int
    public var comment: String

    public init(before: Int, during: Int, after: Int, score: Int, comment: String) {
        self.before = before
        self.during = during
        self.after = after
        self.score = score
        self.comment = comment
    }

    public static let scale = 1...5

    /// A score of 1 or 2: the rating opens a rectification.
    public var isDissatisfied: Bool { score <= 2 }
    /// A score of 4 or 5.
    public var isSatisfied: Bool { score >= 4 }

    /// The first answer outside 1…5, by its parameter name.
    public var invalidAnswer: (name: String, value: Int)? {
        for (name, value) in [("before", before), ("during", during), ("after", after), ("score", score)]
        where !Self.scale.contains(value) {
            return (name, value)
        }
        return nil
    }
}

extension OperationState {
    /// Records a rating of this operation. Only a closed operation can be rated, once;
    /// `ratedAt` is when it was rated before, if it was.
    public mutating func rate(_ rating: ServiceRating, at: Instant, actor: Actor?, ratedAt: Instant?) throws(Refusal) -> Transition {
        guard phase == .closed else {
            throw refusal(
                .notAllowed,
                phase == .cancelled
                    ? "operation \(id) was cancelled; only a closed operation can be rated"
                    : "operation \(id) is still \(phaseName); a rating is taken after it is closed")
        }
        if let ratedAt {
            throw refusal(.notAllowed, "operation \(id) was already rated at \(ISO8601.format(ratedAt)); a rating is taken once")
        }
        if let (name, value) = rating.invalidAnswer {
            throw refusal(
                .invalidArgument, "\(name) is \(value); every answer and the score run from 1 (very dissatisfied) to 5 (very satisfied)")
        }
        var context = DecisionContext(at: at, actor: actor)
        emit(.rated(rating), &context)
        var transition = Transition()
        transition.events = context.events
        return transition
    }
}
