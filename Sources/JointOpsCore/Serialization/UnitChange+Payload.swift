/// Roster changes as events of the log's roster stream (`@units`): a kind and a
/// self-describing payload, like an operation's events.
extension UnitChange {
    /// The stream roster changes are logged under (not an operation id: those never start with '@').
    public static let stream = "@units"

    public var kind: String {
        switch self {
        case .added: "unit_added"
        case .edited: "unit_changed"
        case .retired: "unit_retired"
        case .statusChanged: "unit_status"
        case .assigned: "unit_assigned"
        case .released: "unit_released"
        case .preempted: "unit_preempted"
        }
    }

    public var payload: JSONValue {
        switch self {
        case .added(let unit), .retired(let unit):
            return unit.json
        case .edited(let before, let after):
            return .object(["unit": .string(after.id), "before": before.json, "after": after.json])
        case .statusChanged(let unit, let from, let to, let reason):
            return .object([
                "unit": .string(unit), "from": .string(from.rawValue), "to": .string(to.rawValue),
                "reason": reason.map(JSONValue.string) ?? .null,
            ])
        case .assigned(let unit, let to):
            return .object(["unit": .string(unit), "operation": .string(to.operation), "instance": .int(Int64(to.instance))])
        case .released(let unit, let from, let to):
            return .object([
                "unit": .string(unit), "operation": .string(from.operation), "instance": .int(Int64(from.instance)),
                "status": .string(to.rawValue),
            ])
        case .preempted(let unit, let from, let to, let reason):
            return .object([
                "unit": .string(unit), "from": .string("\(from.operation)#\(from.instance)"),
                "to": .string("\(to.operation)#\(to.instance)"), "reason": .string(reason),
            ])
        }
    }

    /// One line for the journal and the watch stream.
    public var summary: String {
        switch self {
        case .added(let unit): "unit \(unit.id) (\(unit.callSign)) added: \(unit.kind.rawValue) in \(unit.homeRegion)"
        case .edited(_, let unit): "unit \(unit.id) changed"
        case .retired(let unit): "unit \(unit.id) retired"
        case .statusChanged(let unit, let from, let to, let reason):
            "unit \(unit): \(from.rawValue) → \(to.rawValue)" + (reason.map { " (\($0))" } ?? "")
        case .assigned(let unit, let to): "unit \(unit) assigned to \(to.operation) instance \(to.instance)"
        case .released(let unit, let from, let to): "unit \(unit) released from \(from.operation) → \(to.rawValue)"
        case .preempted(let unit, let from, let to, let reason):
            "unit \(unit) taken from \(from.operation) for \(to.operation): \(reason)"
        }
    }
}

extension Unit {
    /// Every field, as the log, the socket and `--json` show a unit.
    public var json: JSONValue {
        .object([
            "id": .string(id), "callSign": .string(callSign), "branch": .string(kind.rawValue), "homeRegion": .string(homeRegion),
            "capabilities": .array(capabilities.sorted().map(JSONValue.string)), "status": .string(status.rawValue),
            "statusReason": statusReason.map(JSONValue.string) ?? .null,
            "operation": assignment.map { .string($0.operation) } ?? .null,
            "instance": assignment.map { .int(Int64($0.instance)) } ?? .null, "retired": .bool(retired),
        ])
    }
}
