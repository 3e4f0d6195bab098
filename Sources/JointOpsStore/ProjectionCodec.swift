import JointOpsCore

/// Small encodings of projection columns.
enum ProjectionCodec {
    /// `[1795910400000,null,…]`: when each phase was last entered.
    static func instantsJSON(_ instants: [Instant?]) -> String {
        JSONValue.array(instants.map { $0.map { .int($0.milliseconds) } ?? .null }).canonical
    }

    static func instants(_ text: String, count: Int) -> [Instant?]? {
        guard case .array(let items)? = try? JSONParser.parse(text), items.count == count else { return nil }
        return items.map { $0.intValue.map(Instant.init(milliseconds:)) }
    }
}
