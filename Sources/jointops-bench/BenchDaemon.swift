import Foundation
import JointOpsProtocol

/// A jointopsd from the benchmark's own build folder (so the same build is measured), in a
/// folder of its own under /tmp with its state and socket; `stop()` ends it with SIGTERM.
final class BenchDaemon {
    let folder: URL
    var socket: String { folder.appendingPathComponent("control.sock").path }
    var database: String { folder.appendingPathComponent("state/jointops.sqlite").path }
    private let process = Process()

    /// Makes the folder (`/tmp/jointops-bench-NAME-PID`); files the daemon needs can be put
    /// there before `start`.
    init(name: String) throws {
        folder = URL(fileURLWithPath: "/tmp/jointops-bench-\(name)-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    /// Starts jointopsd with `arguments` besides its state directory and socket, and waits
    /// until it answers (at most 10 s).
    func start(_ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(
            "jointopsd")
        process.arguments = ["--state-directory", folder.appendingPathComponent("state").path, "--socket", socket] + arguments
        try process.run()
        for _ in 0..<200 where (try? VarlinkClient(socketPath: socket)) == nil { usleep(50_000) }
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// Stops the daemon if it runs and removes the folder.
    func remove() {
        stop()
        try? FileManager.default.removeItem(at: folder)
    }
}
