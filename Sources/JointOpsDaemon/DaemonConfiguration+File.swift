import Foundation
import JointOpsCore
import JointOpsStore
import Logging
import Yams

extension DaemonConfiguration {
    /// The settings a configuration file may have.
    static let keys = [
        "state_directory", "socket", "workflows", "durability", "groups", "max_connections", "max_connections_per_user",
        "admin_reserved_connections", "max_message_bytes", "watch_buffer", "watch_interval_ms", "stalled_message_ms",
        "commit_linger_us", "request_retention_hours", "metrics_listen", "regions", "units", "log_level",
    ]

    /// The range a whole-number setting must be in, its unit, and its default in words.
    struct Bounds: Sendable {
        var range: ClosedRange<Int>
        var unit: String
        var defaultText: String
    }

    static let bounds: [String: Bounds] = [
        "max_connections": Bounds(range: 1...16_384, unit: "connections", defaultText: "256"),
        "max_connections_per_user": Bounds(
            range: 1...16_384, unit: "connections",
            defaultText: "a quarter of max_connections, at most max_connections less admin_reserved_connections"),
        "admin_reserved_connections": Bounds(
            range: 0...16_383, unit: "connections", defaultText: "a quarter of max_connections, at most 4"),
        "max_message_bytes": Bounds(range: 1024...16_777_216, unit: "bytes (1 KiB to 16 MiB)", defaultText: "65536"),
        "watch_buffer": Bounds(range: 1...1_048_576, unit: "changes", defaultText: "8192"),
        "watch_interval_ms": Bounds(range: 0...60_000, unit: "milliseconds", defaultText: "50"),
        "stalled_message_ms": Bounds(range: 100...3_600_000, unit: "milliseconds", defaultText: "10000"),
        "commit_linger_us": Bounds(range: 0...100_000, unit: "microseconds", defaultText: "200"),
        "request_retention_hours": Bounds(range: 1...8760, unit: "hours (at most a year)", defaultText: "24"),
    ]

    /// Applies a YAML configuration file. Every problem in it is reported at once, each as
    /// `FILE:LINE:COLUMN: error: WHAT — HOW TO FIX`; with any, nothing is applied.
    public mutating func apply(file path: String) throws {
        let data: Data
        do {
            data = try readFile(path)
        } catch {
            throw DaemonError(
                "cannot read the configuration file \(path): \(error) — make it readable for jointopsd's user, or pass --config with another file"
            )
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DaemonError("\(path):1:1: error: not UTF-8 text — save the configuration file as UTF-8")
        }
        var reader = ConfigurationReader(file: path, settings: self)
        reader.read(text)
        guard reader.sink.diagnostics.isEmpty else {
            throw DaemonError(reader.sink.diagnostics.map(\.description).joined(separator: "\n"))
        }
        self = reader.settings
    }
}

/// Reads a configuration file's settings into `settings`, each problem into `sink`.
private struct ConfigurationReader {
    let file: String
    var settings: DaemonConfiguration
    let sink = DiagnosticSink()

    mutating func read(_ source: String) {
        guard let root = composeYAML(source, file: file, sink, emptyHint: nil) else { return }  // nothing: every default stands
        guard case .mapping = root.node else {
            sink.error(
                root.location,
                "the configuration must be settings, one 'name: value' a line; found \(root.kindDescription) — see the example jointopsd.yaml"
            )
            return
        }
        var total: Int?
        var perUser: (number: Int, value: YAMLValue)?
        var reserve: (number: Int, value: YAMLValue)?
        for (key, keyLocation, value) in YAMLMapping(root, file: file).entries {
            switch key {
            case "state_directory":
                if let path = text(value, key, "the folder for jointops.sqlite", default: settings.stateDirectory) {
                    settings.stateDirectory = path
                }
            case "socket":
                guard let path = text(value, key, "the control socket's path", default: settings.socketPath) else { continue }
                if let mistake = DaemonConfiguration.socketPathMistake(path, setting: key) {
                    sink.error(value.textLocation, mistake)
                    continue
                }
                settings.socketPath = path
            case "workflows":
                if let path = text(value, key, "the folder of workflow files", default: settings.workflowsDirectory) {
                    settings.workflowsDirectory = path
                }
            case "regions":
                if let path = text(value, key, "the jurisdiction file", default: settings.regionsFile) {
                    settings.regionsFile = path
                    settings.regionsFileIsExplicit = true
                }
            case "units": settings.unitsFile = text(value, key, "the roster file", default: "no roster")
            case "durability":
                guard let text = text(value, key, "full or normal", default: "full") else { continue }
                guard let mode = StoreOptions.Durability(rawValue: text) else {
                    sink.error(
                        value.textLocation,
                        "durability is '\(text)'; it must be full or normal — full syncs each commit before answering; see docs/storage.md before choosing normal"
                    )
                    continue
                }
                settings.durability = mode
            case "groups": groups(value)
            case "metrics_listen":
                guard let text = text(value, key, "a loopback HOST:PORT such as 127.0.0.1:9464", default: "no listener") else { continue }
                do {
                    _ = try MetricsListenAddress(parsing: text)
                    settings.metricsListen = text
                } catch {
                    sink.error(value.textLocation, "metrics_listen: \(error)")
                }
            case "log_level":
                guard
                    let name = text(
                        value, key, "a log level (\(DaemonConfiguration.logLevelNames.joined(separator: ", ")))", default: "info")
                else { continue }
                guard let level = Logger.Level(rawValue: name) else {
                    sink.error(
                        value.textLocation,
                        DaemonConfiguration.logLevelMistake(name, setting: key) + ", or remove the line for the default (info)")
                    continue
                }
                settings.logLevel = level
            case "max_connections": total = number(value, key)
            case "max_connections_per_user": perUser = number(value, key).map { ($0, value) }
            case "admin_reserved_connections": reserve = number(value, key).map { ($0, value) }
            case "max_message_bytes": if let number = number(value, key) { settings.maxMessageBytes = number }
            case "watch_buffer": if let number = number(value, key) { settings.watchBuffer = number }
            case "watch_interval_ms": if let number = number(value, key) { settings.watchIntervalMilliseconds = number }
            case "stalled_message_ms": if let number = number(value, key) { settings.stalledMessageMilliseconds = number }
            case "commit_linger_us": if let number = number(value, key) { settings.commitLingerMicroseconds = number }
            case "request_retention_hours": if let number = number(value, key) { settings.requestRetentionHours = number }
            default:
                sink.error(
                    keyLocation,
                    "unknown setting '\(key)'\(Suggestions.hint(for: key, in: DaemonConfiguration.keys, noun: "the settings are")) — correct its name or remove it"
                )
            }
        }
        connections(total: total ?? settings.connectionLimits.total, perUser: perUser, reserve: reserve)
    }

    /// The connection limits, checked against each other: each at the value that is wrong.
    mutating func connections(total: Int, perUser: (number: Int, value: YAMLValue)?, reserve: (number: Int, value: YAMLValue)?) {
        let defaults = ConnectionLimits(total: total)
        if let reserve, reserve.number >= total {
            sink.error(
                reserve.value.textLocation,
                "admin_reserved_connections is \(reserve.number), but max_connections is \(total); it must be less, or no caller without the admin role could connect — lower it to at most \(total - 1), or raise max_connections"
            )
            return
        }
        let limits = ConnectionLimits(total: total, perUser: perUser?.number, adminReserve: reserve?.number ?? defaults.adminReserve)
        if let perUser, perUser.number > limits.total - limits.adminReserve {
            sink.error(
                perUser.value.textLocation,
                "max_connections_per_user is \(perUser.number), more than callers without the admin role may have together (max_connections \(total) less admin_reserved_connections \(limits.adminReserve)) — lower it to at most \(limits.total - limits.adminReserve)"
            )
            return
        }
        settings.connectionLimits = limits
    }

    /// `groups`: a mapping of view, operate, admin and socket to group names.
    mutating func groups(_ value: YAMLValue) {
        guard case .mapping = value.node else {
            sink.error(
                value.location,
                "groups must map view, operate, admin and socket to group names, found \(value.kindDescription) — e.g. groups: {view: jointops-view, operate: jointops-operate}"
            )
            return
        }
        let roles = ["view", "operate", "admin", "socket"]
        for (role, keyLocation, name) in YAMLMapping(value, file: file).entries {
            guard roles.contains(role) else {
                sink.error(
                    keyLocation,
                    "unknown key '\(role)' in groups\(Suggestions.hint(for: role, in: roles, noun: "the keys are")) — groups names the group of each role (view, operate, admin) and the socket's group (socket)"
                )
                continue
            }
            let group: WritableKeyPath<DaemonConfiguration, String> =
                switch role {
                case "view": \.viewGroup
                case "operate": \.operateGroup
                case "admin": \.adminGroup
                default: \.socketGroup
                }
            if let text = text(name, "groups.\(role)", "a group name", default: settings[keyPath: group]) {
                settings[keyPath: group] = text
            }
        }
    }

    /// A non-empty scalar; nil (reported, with `what` it should be and the default) otherwise.
    func text(_ value: YAMLValue, _ key: String, _ what: String, default: String) -> String? {
        let fix = "give \(what), or remove the line for the default (\(`default`))"
        guard let scalar = value.scalar else {
            sink.error(value.location, "\(key) must be \(what), found \(value.kindDescription) — \(fix)")
            return nil
        }
        guard value.node.null == nil, !scalar.string.trimmingCharacters(in: .whitespaces).isEmpty else {
            sink.error(value.location, "\(key) is empty — \(fix)")
            return nil
        }
        // A path with a NUL was cut at it by the system calls (the error then named the shorter path).
        if scalar.string.containsControlCharacter {
            sink.error(value.location, "\(key) holds a control character (a NUL, tab or line break) — \(fix)")
            return nil
        }
        return scalar.string
    }

    /// A whole number within the setting's `DaemonConfiguration.bounds`; nil (reported) otherwise.
    func number(_ value: YAMLValue, _ key: String) -> Int? {
        let bounds = DaemonConfiguration.bounds[key]!
        let range = "\(bounds.range.lowerBound)…\(bounds.range.upperBound) \(bounds.unit)"
        let fix = "or remove the line for the default (\(bounds.defaultText))"
        guard let text = value.scalar?.string, let number = Int(text) else {
            let digits = value.scalar?.string.drop { $0 == "-" || $0 == "+" } ?? ""
            if !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) {
                sink.error(
                    value.textLocation, "\(key) is \(value.scalar!.string), far outside \(range) — set a value in that range, \(fix)")
            } else {
                sink.error(
                    value.textLocation,
                    "\(key) must be a whole number, \(range), found \(value.kindDescription) — write digits only, \(fix)")
            }
            return nil
        }
        guard bounds.range.contains(number) else {
            sink.error(value.textLocation, "\(key) is \(number), outside \(range) — set a value in that range, \(fix)")
            return nil
        }
        return number
    }
}
