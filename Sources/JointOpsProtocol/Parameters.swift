public import JointOpsCore

/// Typed reading of a call's parameters, each mistake an `InvalidParameter` naming the
/// parameter and saying what was expected. Unknown parameters are refused too.
public struct Parameters {
    public let values: [String: JSONValue]
    private let known: Set<String>
    /// The most bytes any one string parameter (or item, key or value of one) may have;
    /// longer text goes in a file (`Units.Import`'s text has its own limit).
    public static let longestString = 4096

    /// Refuses a string that is too long or holds a NUL (no text here needs one, and SQLite's
    /// text functions, C paths and terminals stop at it): `what` names it in the message.
    private static func check(_ text: String, _ name: String, _ what: String, limit: Int = longestString) throws(VarlinkError) {
        guard text.utf8.count <= limit else {
            throw VarlinkError.invalidParameter(name, because: "\(what) is longer than \(limit) bytes")
        }
        guard !text.utf8.contains(0) else {
            throw VarlinkError.invalidParameter(name, because: "\(what) contains a NUL character (\\u0000); remove it")
        }
    }

    public init(_ values: [String: JSONValue], known: Set<String>) throws(VarlinkError) {
        self.values = values
        self.known = known
        for name in values.keys.sorted() where !known.contains(name) {
            // Echoed clipped: a name of 60 KB came back twice in a reply of 120 KB.
            let shown = name.count > 100 ? name.prefix(100) + "…" : name
            let hint =
                name.count > 100
                ? "; the parameters are \(known.sorted().joined(separator: ", "))"
                : Suggestions.hint(for: name, in: known.sorted(), noun: "parameters")
            throw VarlinkError.invalidParameter(shown, because: "unknown parameter '\(shown)'\(hint)")
        }
    }

    public func string(_ name: String) throws(VarlinkError) -> String {
        guard let value = try optionalString(name) else { throw VarlinkError.invalidParameter(name, because: "'\(name)' is required") }
        return value
    }

    public func optionalString(_ name: String) throws(VarlinkError) -> String? {
        switch values[name] {
        case nil, .null?: return nil
        case .string(let text)?:
            guard !text.isEmpty else { throw VarlinkError.invalidParameter(name, because: "'\(name)' is empty") }
            try Self.check(text, name, "'\(name)'")
            return text
        default: throw VarlinkError.invalidParameter(name, because: "'\(name)' must be a string")
        }
    }

    /// A long text (a file's contents): required, non-empty, at most `limit` bytes.
    public func text(_ name: String, limit: Int) throws(VarlinkError) -> String {
        guard case .string(let text)? = values[name] else {
            throw VarlinkError.invalidParameter(name, because: values[name] == nil ? "'\(name)' is required" : "'\(name)' must be a string")
        }
        guard !text.isEmpty else { throw VarlinkError.invalidParameter(name, because: "'\(name)' is empty") }
        try Self.check(text, name, "'\(name)'", limit: limit)
        return text
    }

    /// A `[]string` list, nil when absent.
    public func optionalStrings(_ name: String) throws(VarlinkError) -> [String]? {
        switch values[name] {
        case nil, .null?: return nil
        case .array(let items)?:
            return try items.map { item throws(VarlinkError) in
                guard case .string(let text) = item, !text.isEmpty else {
                    throw VarlinkError.invalidParameter(name, because: "'\(name)' must be a list of non-empty strings")
                }
                try Self.check(text, name, "an item of '\(name)'")
                return text
            }
        default: throw VarlinkError.invalidParameter(name, because: "'\(name)' must be a list of strings")
        }
    }

    public func optionalInt(_ name: String) throws(VarlinkError) -> Int? {
        switch values[name] {
        case nil, .null?: return nil
        case .int(let value)?:
            guard let small = Int(exactly: value) else { throw VarlinkError.invalidParameter(name, because: "'\(name)' is out of range") }
            return small
        default: throw VarlinkError.invalidParameter(name, because: "'\(name)' must be an integer")
        }
    }

    public func int(_ name: String) throws(VarlinkError) -> Int {
        guard let value = try optionalInt(name) else { throw VarlinkError.invalidParameter(name, because: "'\(name)' is required") }
        return value
    }

    /// An ISO 8601 time with an offset, e.g. `2026-11-01T00:00:00+08:00`.
    public func instant(_ name: String) throws(VarlinkError) -> Instant {
        let text = try string(name)
        guard let instant = ISO8601.parse(text) else {
            // A day that does not exist, or an offset out of range, is said as such.
            let reason = ISO8601.problem(text).map { ": \($0)" } ?? ""
            throw VarlinkError.invalidParameter(
                name, because: "'\(text)' is not an ISO 8601 time with an offset, e.g. 2026-11-01T00:00:00+08:00\(reason)")
        }
        return instant
    }

    public func optionalBool(_ name: String) throws(VarlinkError) -> Bool? {
        switch values[name] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        default: throw VarlinkError.invalidParameter(name, because: "'\(name)' must be true or false")
        }
    }

    /// A `[string]string` map.
    public func stringMap(_ name: String) throws(VarlinkError) -> [String: String] {
        switch values[name] {
        case nil, .null?: return [:]
        case .object(let members)?:
            var result: [String: String] = [:]
            for (key, value) in members {
                try Self.check(key, name, "a name in '\(name)'")
                guard case .string(let text) = value else {
                    throw VarlinkError.invalidParameter(name, because: "'\(name).\(key.prefix(64))' must be a string")
                }
                try Self.check(text, name, "'\(name).\(key)'")
                result[key] = text
            }
            return result
        default: throw VarlinkError.invalidParameter(name, because: "'\(name)' must be an object of strings")
        }
    }
}
