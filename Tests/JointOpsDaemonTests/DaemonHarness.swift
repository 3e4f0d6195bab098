import Foundation
import JointOpsCore
import JointOpsProtocol
import Synchronization
import Testing

/// A real jointopsd, started from the build folder in a fresh directory and stopped by its
/// PID when the test is done.
final class DaemonHarness: @unchecked Sendable {
    static let buildFolder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let sampleRegions = root.appendingPathComponent("Regions/tianjin.yaml").path
    static let sampleUnits = root.appendingPathComponent("Regions/units.yaml").path

    let folder: URL
    private(set) var process = Process()
    var socket: String { folder.appendingPathComponent("control.sock").path }
    var logPath: String { folder.appendingPathComponent("jointopsd.log").path }

    /// `configuration` is written to the daemon's configuration file (YAML).
    /// `workflows` is the workflows directory (default: the repository's `Workflows/`);
    /// `fastAssessment` loads armed-response alone instead, its assessment due one second
    /// after the start instead of two minutes (for late steps without waiting).
    /// `regions` and `units` are the jurisdiction and roster files (default: the samples in
    /// `Regions/`); `regions: nil` runs without a jurisdiction (regions unchecked, no units).
    /// `arguments` are more flags, after those; `environment`, more variables for jointopsd
    /// (a `NOTIFY_SOCKET`, say), kept at restarts.
    init(
        configuration: String = "", workflows: String? = nil, regions: String? = DaemonHarness.sampleRegions,
        units: String? = DaemonHarness.sampleUnits, store: URL? = nil, fastAssessment: Bool = false, stateDisk: String? = nil,
        arguments: [String] = [], environment: [String: String] = [:], name: String = #function
    ) throws {
        let clean = String(name.filter { $0.isLetter || $0.isNumber }.prefix(24))
        folder = URL(fileURLWithPath: "/tmp").appendingPathComponent("jointopsd-\(clean)-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        chmod(folder.path, 0o755)
        let config = folder.appendingPathComponent("jointopsd.yaml")
        try configuration.write(to: config, atomically: true, encoding: .utf8)
        if let stateDisk {
            // The state directory on a tmpfs of that size, to fail its storage for real (root only).
            let state = folder.appendingPathComponent("state")
            try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
            try Self.mount(["-t", "tmpfs", "-o", "size=\(stateDisk)", "tmpfs", state.path])
            stateMounted = true
        }
        if let store {
            // A database to start from (e.g. one an earlier release wrote).
            let state = folder.appendingPathComponent("state")
            try FileManager.default.createDirectory(at: state, withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: store, to: state.appendingPathComponent("jointops.sqlite"))
        }
        var workflows = workflows
        if fastAssessment {
            let fast = folder.appendingPathComponent("workflows")
            try FileManager.default.createDirectory(at: fast, withIntermediateDirectories: true)
            let original = try String(contentsOf: Self.root.appendingPathComponent("Workflows/armed-response.yaml"), encoding: .utf8)
            let edited = original.replacingOccurrences(of: "from: started\n    within: 2m", with: "from: started\n    within: 1s")
            guard edited != original else { throw HarnessError("armed-response.yaml no longer has a 2-minute assessment") }
            try edited.write(to: fast.appendingPathComponent("armed-response.yaml"), atomically: true, encoding: .utf8)
            workflows = fast.path
        }
        process.executableURL = Self.buildFolder.appendingPathComponent("jointopsd")
        process.arguments = [
            "--config", config.path, "--state-directory", folder.appendingPathComponent("state").path, "--socket", socket,
            "--workflows", workflows ?? Self.root.appendingPathComponent("Workflows").path,
        ]
        if let regions { process.arguments! += ["--regions", regions] }
        if let units, regions != nil { process.arguments! += ["--units", units] }
        process.arguments! += arguments
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        try process.run()
        try waitUntilListening()
    }

    /// Stops the daemon (SIGTERM) and starts a new one on the same state, configuration and socket.
    /// `away` seconds pass between the stop and the start (clients see it gone meanwhile).
    func restart(away: Double = 0) throws {
        stop()
        if away > 0 { usleep(UInt32(away * 1_000_000)) }
        let next = Process()
        next.executableURL = process.executableURL
        next.arguments = process.arguments
        next.environment = process.environment
        next.standardOutput = process.standardOutput
        next.standardError = process.standardError
        process = next
        try process.run()
        try waitUntilListening()
    }

    private func waitUntilListening() throws {
        // Every 5 ms: a test may want to be the first caller once it listens.
        for _ in 0..<2000 {
            if (try? VarlinkClient(socketPath: socket)) != nil { return }
            guard process.isRunning else { throw HarnessError("jointopsd exited (\(process.terminationStatus)) before listening:\n\(log)") }
            usleep(5000)
        }
        throw HarnessError("jointopsd did not listen on \(socket) within 10 s:\n\(log)")
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// A client whose receives give up after 15 s, so a broken daemon fails the test instead of hanging it.
    func client() throws -> VarlinkClient { try VarlinkClient(socketPath: socket, timeout: .seconds(15)) }

    /// One call on a fresh connection.
    func call(_ method: String, _ parameters: [String: JSONValue] = [:]) throws -> VarlinkReply {
        try client().call(method, parameters)
    }

    /// Starts an armed-response operation (`armedStart`) with this id.
    @discardableResult
    func startArmed(_ id: String) throws -> VarlinkReply {
        var start = armedStart
        start["id"] = .string(id)
        return try call("io.jointops.Operations.Start", start)
    }

    /// A fresh connection that has called Watch (with more) with these filters: what it
    /// receives next is the stream.
    func watch(_ filters: [String: JSONValue] = [:]) throws -> VarlinkClient {
        let watcher = try client()
        try watcher.send(VarlinkCall(method: "io.jointops.Operations.Watch", parameters: filters, more: true))
        return watcher
    }

    /// Sends SIGTERM and waits for the exit status.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    /// The evaluation report over every operation any test makes (2020 to 2100), with `filters`.
    func evaluate(_ filters: [String: JSONValue] = [:]) throws -> VarlinkReply {
        try call(
            "io.jointops.Operations.Evaluate",
            filters.merging(["from": .string("2020-01-01T00:00:00Z"), "to": .string("2100-01-01T00:00:00Z")]) { $1 })
    }

    /// A report's figures as figure → this period's value.
    static func currentFigures(_ report: VarlinkReply) -> [String: JSONValue] {
        var figures: [String: JSONValue] = [:]
        for row in report.parameters["figures"]?.arrayValue ?? [] {
            if let figure = row["figure"]?.stringValue { figures[figure] = row["current"] ?? .null }
        }
        return figures
    }

    /// Sends SIGTERM; nil if jointopsd had not exited after `seconds` (it is then killed).
    func stop(within seconds: Double) -> Int32? {
        process.terminate()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        if stateMounted { try? Self.mount(["-u", folder.appendingPathComponent("state").path]) }
        try? FileManager.default.removeItem(at: folder)
    }

    /// Whether the state directory is a tmpfs of this harness's (`stateDisk`).
    private var stateMounted = false

    /// Remounts the state directory's tmpfs with these options (`ro`, `rw`).
    func remountState(_ options: String) throws {
        try Self.mount(["-o", "remount,\(options)", folder.appendingPathComponent("state").path])
    }

    /// Runs mount(8), or umount(8) when the first argument is "-u".
    static func mount(_ arguments: [String]) throws {
        let process = Process()
        let unmount = arguments.first == "-u"
        process.executableURL = URL(fileURLWithPath: unmount ? "/bin/umount" : "/bin/mount")
        process.arguments = unmount ? Array(arguments.dropFirst()) : arguments
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw HarnessError("\(unmount ? "umount" : "mount") \(arguments) failed") }
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Armed-response start parameters.
let armedStart: [String: JSONValue] = [
    "workflow": .string("armed-response"), "region": .string("hexi"),
    "attributes": .object(["incident_type": .string("armed_robbery"), "priority": .string("P1"), "weapon_involved": .string("true")]),
]

extension VarlinkReply {
    var operation: JSONValue? { parameters["operation"] }
}

/// The stop sign of threads a test starts beside a daemon (a flood of connections, a disk
/// filler): set once by the test, read by the threads.
final class StopFlag: Sendable {
    let value = Atomic(false)
}
