import CSystemd
import Foundation
import Logging

/// A swift-log handler that writes to the journal through `sd_journal_sendv`, with each
/// metadata key as a structured field (`operation` → `OPERATION_ID`, …), so
/// `journalctl OPERATION_ID=OP-1` tells one operation's story.
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Journal field names for the metadata keys jointops uses.
    static let fieldNames: [String: String] = [
        "operation": "OPERATION_ID", "workflow": "WORKFLOW", "branch": "BRANCH", "region": "REGION", "actor_uid": "ACTOR_UID",
        "event": "EVENT_KIND", "sequence": "EVENT_SEQUENCE", "message_id": "MESSAGE_ID",
    ]

    public func log(event: LogEvent) {
        var fields = [
            "MESSAGE=\(event.message)", "PRIORITY=\(Self.priority(event.level))", "SYSLOG_IDENTIFIER=jointopsd",
            "CODE_FILE=\(event.file)", "CODE_LINE=\(event.line)", "CODE_FUNC=\(event.function)",
        ]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            fields.append("\(Self.fieldName(key))=\(value)")
        }
        Self.send(fields)
    }

    static func fieldName(_ key: String) -> String {
        if let name = fieldNames[key] { return name }
        let upper = key.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
        return "JOINTOPS_" + String(upper)
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// One journal entry from `KEY=value` strings.
    static func send(_ fields: [String]) {
        var buffers = fields.map { Array($0.utf8) }
        var vectors: [iovec] = []
        vectors.reserveCapacity(buffers.count)
        for index in buffers.indices {
            buffers[index].withUnsafeMutableBytes { bytes in
                vectors.append(iovec(iov_base: bytes.baseAddress, iov_len: bytes.count))
            }
        }
        // The buffers outlive the call: the pointers above stay valid until here.
        withExtendedLifetime(buffers) {
            _ = sd_journal_sendv(vectors, Int32(vectors.count))
        }
    }
}

/// `MESSAGE_ID`s of the key events; `systemd/jointops.catalog` explains each for `journalctl -x`.
public enum JournalMessageID {
    public static let operationStarted = "8d3a4c2e5f1b4d7a9c6e0b2f4a8d1c3e"
    public static let operationEnded = "2b7e9f41c6a84d3e8f05a1c9d7b3e6f2"
    public static let deadlineMissed = "f4c1a9e7b2d54c8e9a3f6b0d2e7c1a58"
    public static let escalation = "6a2d8e3f9b1c4e7a8d5f0c2b9e6a3d71"
    public static let reloadFailed = "c9e5b3a17d2f4e8b9c6a0d3f5e2b8a14"
    /// At start, some workflow files were left out (jointopsd runs with the valid ones).
    public static let workflowsSkipped = "06d045eb29834dcd901da3811214041e"
    public static let storageFault = "3e8f1d6b2a9c4f7e8b0d5a3c1f9e6b27"
    /// At start, the event log's last events do not verify.
    public static let eventLogBroken = "b32a80e8fcd34394b3a975af2ac93218"
    /// `jointopsctl admin verify` found the event log broken (anywhere in it).
    public static let eventLogBrokenByVerify = "86458f346f234193b2e47d5d1280778d"
}
