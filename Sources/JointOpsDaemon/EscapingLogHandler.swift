import JointOpsCore
import Logging

/// The log on a terminal or in a file (jointopsd not under journald): messages carry text
/// anyone with the operate role wrote (a note, a hold reason), which must not drive the
/// terminal of whoever reads the log, nor forge lines. Control and bidirectional characters
/// are written as escapes (`TerminalText`), and the lines of a message of several lines (a
/// reload's problems) after its first are indented, so none can pass for an entry of its own.
/// The journal keeps each message as one field and needs none of this.
public struct EscapingLogHandler: LogHandler {
    private var wrapped: any LogHandler

    public init(wrapping handler: any LogHandler) { wrapped = handler }

    public var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    public var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        var event = event
        event.message = "\(Self.safe(event.message.description))"
        wrapped.log(event: event)
    }

    /// `message` as one entry: escaped line by line, its later lines indented.
    static func safe(_ message: String) -> String {
        TerminalText.escapedLines(message).replacingOccurrences(of: "\n", with: "\n    ")
    }
}
