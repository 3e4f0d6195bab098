/// One problem found in a definition, printed as `FILE:LINE:COLUMN: error: MESSAGE`.
///
/// The message says what is wrong and, where it helps, how to fix it
/// ("did you mean …", the allowed values).
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        case error
        case warning
    }

    public var severity: Severity
    public var location: SourceLocation
    public var message: String

    public init(_ severity: Severity, at location: SourceLocation, _ message: String) {
        self.severity = severity
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): \(severity.rawValue): \(message)" }
}

extension [Diagnostic] {
    public var hasErrors: Bool { contains { $0.severity == .error } }

    /// Sorted by file, line and column, the order a reader goes through a file.
    public var sortedByLocation: [Diagnostic] {
        sorted {
            ($0.location.file, $0.location.line, $0.location.column)
                < ($1.location.file, $1.location.line, $1.location.column)
        }
    }
}
