import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// The connection limits with real connections: a connection beyond one is told why
/// (TooManyConnections) before it is closed, one user cannot take every slot, and admins
/// keep slots of their own.
@Suite(.serialized) struct ConnectionLimitTests {
    /// A connection the daemon has admitted: its first call is answered (retried for 5 s, as
    /// the connections of a test's previous steps may take a moment to be given back).
    static func admitted(_ daemon: DaemonHarness) throws -> VarlinkClient {
        let deadline = Date().addingTimeInterval(5)
        while true {
            let client = try daemon.client()
            let reply = try? client.call("org.varlink.service.GetInfo")
            if let reply, reply.error == nil { return client }
            guard Date() < deadline else { throw HarnessError("no connection was admitted within 5 s: \(String(describing: reply))") }
            usleep(50_000)
        }
    }

    @Test func aConnectionBeyondTheLimitIsToldWhyThenClosed() throws {
        let daemon = try DaemonHarness(configuration: "max_connections: 3\n")
        var held = try (0..<3).map { _ in try Self.admitted(daemon) }
        // A client that calls gets the error as the reply to its call, then the connection ends.
        let refused = try daemon.client()
        let reply = try refused.call("io.jointops.Operations.Workflows")
        #expect(reply.error == "io.jointops.Operations.TooManyConnections", "\(reply)")
        #expect(reply.parameters["setting"] == .string("max_connections"))
        #expect(reply.parameters["limit"] == .int(3))
        #expect(reply.parameters["reason"]?.stringValue?.contains("jointopsd has 3 connections open, its max_connections") == true)
        #expect(throws: VarlinkClient.Failure.self) { try refused.receive() }
        // One that sends nothing gets it too.
        #expect(try daemon.client().receive().error == "io.jointops.Operations.TooManyConnections")
        // jointopsctl shows it.
        let ctl = RoleMatrixTests.run(
            DaemonHarness.buildFolder.appendingPathComponent("jointopsctl").path, ["workflows", "--socket", daemon.socket])
        #expect(ctl.status == 69)
        #expect(
            ctl.output.hasPrefix("jointopsctl: jointopsd turned the connection away: ") && ctl.output.contains("max_connections"),
            "\(ctl.output)")
        // A slot given back is free again.
        held.removeFirst()
        #expect(try Self.admitted(daemon).call("io.jointops.Operations.Workflows").error == nil)
        #expect(daemon.log.contains("refused a connection from uid \(getuid())"))
    }
}

/// Users other than root (numeric uids, run with setpriv, in the group `users`, which is the
/// view role here) hold connections with `jointopsctl watch`.
@Suite(
    .serialized,
    .enabled(if: getuid() == 0 && getgrnam("users") != nil, "SKIPPED: switching to other users needs root and the group 'users'"))
struct ConnectionLimitPerUserTests {
    /// `jointopsctl watch` as `uid`: running (admitted) or ended with its message (refused).
    final class Watcher {
        let process = Process()
        let errors = Pipe()
        private(set) var output = ""

        init(uid: Int, socket: String) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = [
                "--reuid=\(uid)", "--regid=users", "--clear-groups",
                DaemonHarness.buildFolder.appendingPathComponent("jointopsctl").path, "watch", "--socket", socket,
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = errors
            try process.run()
            // Until it says it is watching, or it has ended (10 s at most).
            let descriptor = errors.fileHandleForReading.fileDescriptor
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            var bytes = [UInt8](repeating: 0, count: 4096)
            let deadline = Date().addingTimeInterval(10)
            while !output.contains("watching:"), Date() < deadline, poll(&entry, 1, 200) >= 0 {
                guard entry.revents != 0 else { continue }
                let count = read(descriptor, &bytes, bytes.count)
                if count <= 0 { break }
                output += String(decoding: bytes[..<count], as: UTF8.self)
            }
        }

        var watching: Bool { output.contains("watching:") && process.isRunning }

        deinit {
            guard process.isRunning else { return }
            process.terminate()
            // A watch must end on SIGTERM; one that does not is killed after 5 s and said
            // (it once kept this suite waiting for ever).
            for _ in 0..<100 where process.isRunning { usleep(50_000) }
            if process.isRunning {
                Issue.record("jointopsctl watch (pid \(process.processIdentifier)) did not end on SIGTERM within 5 s")
                kill(process.processIdentifier, SIGKILL)
            }
            process.waitUntilExit()
        }
    }

    @Test func oneUserCannotTakeEverySlotAndAdminsKeepTheirReserve() throws {
        let daemon = try DaemonHarness(
            configuration: """
                max_connections: 6
                max_connections_per_user: 3
                admin_reserved_connections: 2
                groups: {view: users, socket: users}
                """)
        // One user: three connections, not a fourth.
        var first = try (0..<3).map { _ in try Watcher(uid: 4101, socket: daemon.socket) }
        #expect(first.allSatisfy { $0.watching }, "\(first.map(\.output))")
        let fourth = try Watcher(uid: 4101, socket: daemon.socket)
        #expect(!fourth.watching)
        #expect(
            fourth.output.contains("turned the connection away") && fourth.output.contains("max_connections_per_user"), "\(fourth.output)")
        // Another user takes the last slot callers without the admin role may have…
        let second = try Watcher(uid: 4102, socket: daemon.socket)
        #expect(second.watching, "\(second.output)")
        let third = try Watcher(uid: 4103, socket: daemon.socket)
        #expect(!third.watching)
        #expect(
            third.output.contains("has 4 connections open") && third.output.contains("less admin_reserved_connections 2"), "\(third.output)"
        )
        // …but root still gets the two reserved ones, and no more.
        let root = try (0..<2).map { _ in try ConnectionLimitTests.admitted(daemon) }
        let beyond = try daemon.call("io.jointops.Operations.Workflows")
        #expect(beyond.error == "io.jointops.Operations.TooManyConnections")
        #expect(beyond.parameters["limit"] == .int(6))
        withExtendedLifetime(root) {}
        // When the first user's watches end, the others may connect again.
        first.removeAll()
        var again: Watcher?
        for _ in 0..<50 where again?.watching != true {
            again = try Watcher(uid: 4103, socket: daemon.socket)
            if again?.watching != true { usleep(100_000) }
        }
        #expect(again?.watching == true, "\(again?.output ?? "")")
    }
}
