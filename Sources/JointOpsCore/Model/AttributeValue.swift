/// The type of an operation attribute.
public enum AttributeType: Sendable, Hashable {
    case string
    case int
    case bool
    case enumeration([String])
    case priority

    public static let names = ["string", "int", "bool", "enum", "priority"]

    public var name: String {
        switch self {
        case .string: "string"
        case .int: "int"
        case .bool: "bool"
        case .enumeration: "enum"
        case .priority: "priority"
        }
    }
}

/// A value of an operation attribute. Priorities are 1 (P1, most urgent) to 4.
public enum AttributeValue: Sendable, Hashable, Codable, CustomStringConvertible {
    case string(String)
    case int(Int)
    case bool(Bool)
    case symbol(String)
    case priority(Int)

    public var description: String {
        switch self {
        case .string(let text): text
        case .int(let value): String(value)
        case .bool(let value): String(value)
        case .symbol(let name): name
        case .priority(let level): "P\(level)"
        }
    }

    /// Reads a value of `type` from its textual form (as typed on a command line or in YAML).
    /// Returns a message saying what was expected when the text does not fit.
    public static func parse(_ text: String, as type: AttributeType) -> Result<AttributeValue, ValueError> {
        switch type {
        case .string:
            guard text.utf8.count <= maximumTextBytes else {
                return .failure(ValueError("a text of at most \(maximumTextBytes) bytes (this one has \(text.utf8.count))"))
            }
            guard !text.containsControlCharacter else {
                return .failure(ValueError("a text without control characters (newlines, tabs, escapes)"))
            }
            return .success(.string(text))
        case .int:
            // Every int an operation carries is a count or an amount: suspects, yuan, minutes.
            guard let value = Int(text), value >= 0 else { return .failure(ValueError("a whole number, 0 or more")) }
            return .success(.int(value))
        case .bool:
            switch text {
            case "true", "yes": return .success(.bool(true))
            case "false", "no": return .success(.bool(false))
            default: return .failure(ValueError("true or false (yes and no are taken too)"))
            }
        case .enumeration(let values):
            guard values.contains(text) else {
                return .failure(ValueError("one of \(values.joined(separator: ", "))" + didYouMean(text, values)))
            }
            return .success(.symbol(text))
        case .priority:
            guard let level = priorityLevel(text) else { return .failure(ValueError("a priority P1, P2, P3 or P4")) }
            return .success(.priority(level))
        }
    }

    /// The longest text attribute, as for notes and reasons.
    public static let maximumTextBytes = 4096

    /// `P1`…`P4` as 1…4.
    public static func priorityLevel(_ text: String) -> Int? {
        guard text.count == 2, text.first == "P", let level = Int(text.dropFirst()), (1...4).contains(level)
        else { return nil }
        return level
    }

    private static func didYouMean(_ text: String, _ values: [String]) -> String {
        Suggestions.closest(to: text, in: values).map { " (did you mean '\($0)'?)" } ?? ""
    }

    /// What was expected instead of a value that did not fit its type.
    public struct ValueError: Error, Sendable, Hashable {
        public var expected: String
        init(_ expected: String) { self.expected = expected }
    }
}
