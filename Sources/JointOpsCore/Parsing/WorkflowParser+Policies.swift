extension WorkflowParser {
    func parseHold(_ value: YAMLValue) -> HoldPolicy? {
        guard let fields = read.mapping(value, "'hold'") else { return nil }
        fields.check(allowed: ["allowed", "clock"], in: "'hold'", sink)
        let clock = fields["clock"].flatMap { read.choice($0, "'clock' of 'hold'", ["pause", "run"]) }.flatMap(
            HoldPolicy.Clock.init(rawValue:))
        let allowed = fields["allowed"].flatMap { read.bool($0, "'allowed'") } ?? true
        if !allowed, let key = fields.entries.first(where: { $0.key == "clock" }) {
            sink.warning(
                key.keyLocation,
                "'clock' of 'hold' has no effect: holds are not allowed ('allowed: false'), so no operation is ever held; remove 'clock', or allow holds"
            )
        }
        return HoldPolicy(allowed: allowed, clock: clock ?? .pause)
    }

    func parseCancel(_ value: YAMLValue) -> [String]? {
        guard let fields = read.mapping(value, "'cancel'") else { return nil }
        fields.check(allowed: ["reasons"], required: ["reasons"], in: "'cancel'", sink)
        return fields["reasons"].map { read.identifierList($0, "cancel reason").map(\.0) }
    }

    func parseClose(_ value: YAMLValue) -> ([Int], [String]) {
        guard let fields = read.mapping(value, "'close'") else { return ([], []) }
        fields.check(allowed: ["from", "dispositions"], required: ["from", "dispositions"], in: "'close'", sink)
        var from: [Int] = []
        if let fromValue = fields["from"] {
            let items = fromValue.scalar != nil ? [fromValue] : (read.list(fromValue, "'from' of 'close'") ?? [])
            from = items.compactMap { phase($0, "'from' of 'close'") }
        }
        let dispositions = fields["dispositions"].map { read.identifierList($0, "disposition").map(\.0) } ?? []
        if fields["dispositions"] != nil, dispositions.isEmpty {
            sink.error(fields["dispositions"]!.location, "'dispositions' of 'close' needs at least one disposition, e.g. [resolved]")
        }
        return (from, dispositions)
    }
}
