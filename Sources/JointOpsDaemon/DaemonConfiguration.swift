import Foundation
import JointOpsCore
import JointOpsProtocol
import JointOpsStore
import Logging

public typealias StoreDurability = StoreOptions.Durability

/// jointopsd's settings: defaults, then the configuration file (DaemonConfiguration+File),
/// then command-line flags.
public struct DaemonConfiguration: Sendable {
    public static let defaultFile = "/etc/jointops/jointopsd.yaml"

    public var stateDirectory = "/var/lib/jointops"
    public var socketPath = DaemonConfiguration.defaultSocketPath
    public var workflowsDirectory = "/etc/jointops/workflows"
    public var durability = StoreOptions.Durability.full
    public var viewGroup = "jointops-view"
    public var operateGroup = "jointops-operate"
    public var adminGroup = "jointops-admin"
    /// The Unix group that gives each role (`groups` in the file).
    public var roleGroups: [Role: String] { [.view: viewGroup, .operate: operateGroup, .admin: adminGroup] }
    /// The group the control socket belongs to (mode 0660); every role group's members should be in it.
    public var socketGroup = "jointops"
    /// max_connections, max_connections_per_user and admin_reserved_connections.
    public var connectionLimits = ConnectionLimits(total: 256)
    public var maxMessageBytes = 65_536
    /// How many changes may wait for one watcher before it is disconnected as too slow.
    public var watchBuffer = 8192
    /// The shortest time between two writes to one watcher: changes arriving meanwhile
    /// share a write, and an operation's view is sent once per write (milliseconds).
    public var watchIntervalMilliseconds = 50
    /// How long a commit lingers for other commands to share its transaction (microseconds).
    public var commitLingerMicroseconds = 200
    /// How long a connection may leave half a message unfinished, or a watcher leave a write
    /// to it waiting (it stopped reading), before it is closed.
    public var stalledMessageMilliseconds = 10_000
    /// How long the reply to a client request id is kept for a retry (hours); older ones are
    /// forgotten, and a retry after that applies its command again.
    public var requestRetentionHours = 24
    /// `HOST:PORT` of the metrics HTTP listener on a loopback address; nil (the default): no listener.
    public var metricsListen: String?
    /// The jurisdiction tree (regions.yaml). At the default path a missing file only turns
    /// region checks and unit dispatch off (loudly); a path that was set must exist.
    public var regionsFile = DaemonConfiguration.defaultRegionsFile
    public var regionsFileIsExplicit = false
    /// A roster (YAML or CSV) imported at start when the store has no unit yet.
    public var unitsFile: String?
    public static let defaultRegionsFile = "/etc/jointops/regions.yaml"
    public static let defaultSocketPath = "/run/jointops/control.sock"
    /// The least severe level logged: `log_level` in the file, `--log-level`.
    public var logLevel = Logger.Level.info

    public init() {}

    public var databasePath: String { (stateDirectory as NSString).appendingPathComponent("jointops.sqlite") }
}

extension DaemonConfiguration {
    /// The log levels by name, most verbose first: what `log_level` and `--log-level` take.
    public static let logLevelNames = Logger.Level.allCases.map(\.rawValue)

    /// Why `name` is no log level, for `setting` (`log_level` or `--log-level`), with the levels
    /// there are. A near miss, or the start of a level's name (`warn`), gets "did you mean".
    public static func logLevelMistake(_ name: String, setting: String) -> String {
        let meant =
            Suggestions.closest(to: name, in: logLevelNames)
            ?? (name.count >= 3 ? logLevelNames.first { $0.hasPrefix(name.lowercased()) } : nil)
        let hint = meant.map { "; did you mean '\($0)'?" } ?? ""
        return "\(setting) is '\(name)', not a log level\(hint) — write one of \(logLevelNames.joined(separator: ", "))"
    }

    /// Why `path` cannot be the control socket, for `setting` (`socket` or `--socket`): longer
    /// than a Unix socket's address holds; nil when it fits.
    public static func socketPathMistake(_ path: String, setting: String) -> String? {
        let bytes = path.utf8.count
        guard bytes > UnixSocketAddress.maxPathBytes else { return nil }
        return
            "\(setting) \(path) is \(bytes) bytes long, more than a Unix socket path may have (\(UnixSocketAddress.maxPathBytes)) — use a shorter path, e.g. \(defaultSocketPath)"
    }
}
