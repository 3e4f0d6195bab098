import Foundation

/// Steps one process's wall clock, not the machine's: the process runs with
/// `Tests/Fixtures/wallclock/wall-clock-shift.c` preloaded (built here with the system's C
/// compiler), which adds the seconds `set` writes to every wall-clock reading it makes.
final class WallClockShift: Sendable {
    /// The built library, or nil without a C compiler.
    static let library: String? = {
        let source = DaemonHarness.root.appendingPathComponent("Tests/Fixtures/wallclock/wall-clock-shift.c").path
        let library = "/tmp/jointops-wall-clock-shift-\(getpid()).so"
        for compiler in ["/usr/bin/cc", "/usr/bin/clang", "/usr/bin/gcc"] where FileManager.default.isExecutableFile(atPath: compiler) {
            let build = Process()
            build.executableURL = URL(fileURLWithPath: compiler)
            build.arguments = ["-shared", "-fPIC", "-O2", "-o", library, source, "-ldl"]
            guard (try? build.run()) != nil else { continue }
            build.waitUntilExit()
            if build.terminationStatus == 0 { return library }
        }
        return nil
    }()

    static var available: Bool { library != nil }

    let file: String

    init() throws {
        file = "/tmp/jointops-wall-clock-shift-\(getpid())-\(UUID().uuidString.prefix(6))"
        try set(seconds: 0)
    }

    /// What a process needs in its environment to have its clock shifted by this.
    var environment: [String: String] { ["LD_PRELOAD": Self.library ?? "", "WALL_CLOCK_SHIFT_FILE": file] }

    /// Steps the process's wall clock to `seconds` away from the real time (negative: back).
    func set(seconds: Double) throws { try "\(seconds)\n".write(toFile: file, atomically: true, encoding: .utf8) }

    deinit { unlink(file) }
}
