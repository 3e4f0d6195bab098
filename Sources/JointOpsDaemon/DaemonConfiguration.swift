import Foundation
import JointOpsStore
import Yams

public typealias StoreDurability = StoreOptions.Durability

/// jointopsd's settings: defaults, then the configuration file, then command-line flags.
public struct DaemonConfiguration: Sendable {
    public static let defaultFile = "/etc/jointops/jointopsd.yaml"

    public var stateDirectory = "/var/lib/jointops"
    public var socketPath = "/run/jointops/control.sock"
    public var workflowsDirectory = "/etc/jointops/workflows"
    public var durability = StoreOptions.Durability.full
    public var viewGroup = "jointops-view"
    public var operateGroup = "jointops-operate"
    public var adminGroup = "jointops-admin"
    /// The group the control socket belongs to (mode 0660); every role group's members should be in it.
    public var socketGroup = "jointops"
    public var maxConnections = 256
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
    /// `HOST:PORT` of the metrics HTTP listener on a loopback address; nil (the default): no listener.
    public var metricsListen: String?
    /// The jurisdiction tree (regions.yaml). At the default path a missing file only turns
    /// region checks and unit dispatch off (loudly); a path that was set must exist.
    public var regionsFile = DaemonConfiguration.defaultRegionsFile
    public var regionsFileIsExplicit = false
    /// A roster (YAML or CSV) imported at start when the store has no unit yet.
    public var unitsFile: String?
    public static let defaultRegionsFile = "/etc/jointops/regions.yaml"

    public init() {}

    public var databasePath: String { (stateDirectory as NSString).appendingPathComponent("jointops.sqlite") }

    static let keys = [
        "state_directory", "socket", "workflows", "durability", "groups", "max_connections", "max_message_bytes", "watch_buffer",
        "watch_interval_ms", "stalled_message_ms", "commit_linger_us", "metrics_listen", "regions", "units",
    ]

    /// Applies a YAML configuration file; an unknown key or a wrong value is an error that
    /// names the file and the key.
    public mutating func apply(file path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path), let text = String(data: handle.readDataToEndOfFile(), encoding: .utf8) else {
            throw DaemonError("cannot read the configuration file \(path); create it or pass --config with another path")
        }
        let document = try Yams.load(yaml: text)
        if document == nil { return }  // an empty file: every default stands
        guard let root = document as? [String: Any] else {
            throw DaemonError("\(path): the configuration must be a mapping of settings (\(Self.keys.joined(separator: ", ")))")
        }
        for (key, value) in root {
            func string() throws -> String {
                guard let text = value as? String else { throw DaemonError("\(path): '\(key)' must be a string") }
                return text
            }
            func integer() throws -> Int {
                guard let number = value as? Int, number > 0 else { throw DaemonError("\(path): '\(key)' must be a positive integer") }
                return number
            }
            switch key {
            case "state_directory": stateDirectory = try string()
            case "socket": socketPath = try string()
            case "workflows": workflowsDirectory = try string()
            case "durability":
                guard let mode = StoreOptions.Durability(rawValue: try string()) else {
                    throw DaemonError("\(path): 'durability' must be full or normal")
                }
                durability = mode
            case "groups":
                guard let groups = value as? [String: String] else {
                    throw DaemonError("\(path): 'groups' must map view, operate and admin to group names")
                }
                viewGroup = groups["view"] ?? viewGroup
                operateGroup = groups["operate"] ?? operateGroup
                adminGroup = groups["admin"] ?? adminGroup
                socketGroup = groups["socket"] ?? socketGroup
            case "max_connections": maxConnections = try integer()
            case "max_message_bytes": maxMessageBytes = try integer()
            case "watch_buffer": watchBuffer = try integer()
            case "watch_interval_ms":
                guard let number = value as? Int, number >= 0 else { throw DaemonError("\(path): 'watch_interval_ms' must be 0 or more") }
                watchIntervalMilliseconds = number
            case "stalled_message_ms": stalledMessageMilliseconds = try integer()
            case "metrics_listen":
                let text = try string()
                do {
                    _ = try MetricsListenAddress(parsing: text)
                } catch {
                    throw DaemonError("\(path): 'metrics_listen': \(error)")
                }
                metricsListen = text
            case "regions":
                regionsFile = try string()
                regionsFileIsExplicit = true
            case "units": unitsFile = try string()
            case "commit_linger_us":
                guard let number = value as? Int, number >= 0 else { throw DaemonError("\(path): 'commit_linger_us' must be 0 or more") }
                commitLingerMicroseconds = number
            default:
                let hint =
                    Self.keys.min { a, b in a.commonPrefix(with: key).count > b.commonPrefix(with: key).count }.map {
                        "; did you mean '\($0)'?"
                    } ?? ""
                throw DaemonError("\(path): unknown setting '\(key)'\(hint)")
            }
        }
    }
}
