import Foundation
import JointOpsCore
import JointOpsProtocol
import NIOCore
import Testing

@testable import JointOpsDaemon

/// The daemon's metrics, read from a real jointopsd: over the control socket
/// (`io.jointops.Admin.Metrics`, `jointopsctl metrics`) and from the optional loopback HTTP listener.
@Suite(.serialized) struct MetricsTests {
    /// The lines of an exposition that are samples (not `# TYPE` / `# HELP`).
    static func samples(_ text: String) -> Set<String> {
        Set(text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") })
    }

    static func metrics(_ daemon: DaemonHarness) throws -> String {
        let reply = try daemon.call("io.jointops.Admin.Metrics")
        #expect(reply.error == nil, "\(reply)")
        return reply.parameters["text"]?.stringValue ?? ""
    }

    @Test func aKnownSequenceOfCommandsGivesExactCountsGaugesAndHistograms() throws {
        let daemon = try DaemonHarness()
        func call(_ method: String, _ parameters: [String: JSONValue]) throws -> VarlinkReply {
            try daemon.call("io.jointops.Operations.\(method)", parameters)
        }
        var first = armedStart
        first["id"] = .string("OP-M1")
        var second = armedStart
        second["id"] = .string("OP-M2")
        #expect(try call("Start", first).error == nil)
        #expect(try call("Start", second).error == nil)
        #expect(try call("Start", first).error == "io.jointops.Operations.OperationExists")
        #expect(
            try call("Close", ["id": .string("OP-M2"), "disposition": .string("resolved")]).error == "io.jointops.Operations.CommandRefused"
        )
        #expect(try call("Fire", ["id": .string("OP-M1"), "event": .string("assess")]).error == nil)
        #expect(try call("Fire", ["id": .string("OP-M1"), "event": .string("dispatch")]).error == nil)
        #expect(try call("Advance", ["id": .string("OP-M1"), "branch": .string("swat"), "step": .string("on_scene")]).error == nil)
        #expect(try call("Escalate", ["id": .string("OP-M2"), "reason": .string("crowd gathering")]).error == nil)
        #expect(try call("Note", ["id": .string("OP-404"), "text": .string("lost")]).error == "io.jointops.Operations.OperationNotFound")

        let text = try Self.metrics(daemon)
        let samples = Self.samples(text)
        for expected in [
            #"jointops_commands_total{method="Start",result="ok"} 2"#,
            #"jointops_commands_total{method="Start",result="OperationExists"} 1"#,
            #"jointops_commands_total{method="Close",result="refused"} 1"#,
            #"jointops_commands_total{method="Fire",result="ok"} 2"#,
            #"jointops_commands_total{method="Advance",result="ok"} 1"#,
            #"jointops_commands_total{method="Escalate",result="ok"} 1"#,
            #"jointops_commands_total{method="Note",result="OperationNotFound"} 1"#,
            // OP-M1 went reported → assessing → responding; OP-M2 stayed reported.
            #"jointops_open_operations{phase="reported",region="hexi"} 1.0"#,
            #"jointops_open_operations{phase="assessing",region="hexi"} 0.0"#,
            #"jointops_open_operations{phase="responding",region="hexi"} 1.0"#,
            // Responding dispatched public order, SWAT (weapon involved) and traffic (P1 ≤ P2).
            #"jointops_active_branches{branch="public_order"} 1.0"#,
            #"jointops_active_branches{branch="swat"} 1.0"#,
            #"jointops_active_branches{branch="traffic"} 1.0"#,
            "jointops_late_steps 0.0",
            #"jointops_escalations_total{deadline="",kind="manual"} 1"#,
            // Every call is timed, whatever its result: three Starts.
            #"jointops_command_duration_seconds_count{method="Start"} 3"#,
            #"jointops_command_duration_seconds_count{method="Close"} 1"#,
            // Six changes were committed (2 starts, 2 fires, 1 advance, 1 escalation), in however many transactions.
            "jointops_commit_batch_size_sum 6.0",
            // Each of the six waited for its transaction once.
            "jointops_commit_wait_seconds_count 6",
        ] {
            #expect(samples.contains(expected), "missing \(expected) in:\n\(text)")
        }
        #expect(text.contains("# TYPE jointops_command_duration_seconds histogram"))
        #expect(text.contains("# TYPE jointops_commit_batch_size histogram"))
        #expect(text.contains("# TYPE jointops_commit_wait_seconds histogram"))
        #expect(text.contains("# TYPE jointops_commit_transaction_seconds histogram"))
        // One transaction time per transaction.
        let transactions = samples.first { $0.hasPrefix("jointops_commit_batch_size_count ") }
        #expect(transactions != nil)
        #expect(
            transactions.map {
                $0.replacingOccurrences(of: "jointops_commit_batch_size_count", with: "jointops_commit_transaction_seconds_count")
            }
            .map(samples.contains) == true, "\(text)")
        #expect(text.contains("# TYPE jointops_open_operations gauge"))
        #expect(text.contains("# TYPE jointops_commands_total counter"))
        #expect(samples.allSatisfy { $0.hasPrefix("jointops_") }, "every metric is named jointops_…")

        // Closing an operation takes it off the gauges; its active branches go with it.
        #expect(try call("Cancel", ["id": .string("OP-M1"), "reason": .string("false_alarm")]).error == nil)
        let afterText = try Self.metrics(daemon)
        let after = Self.samples(afterText)
        for expected in [
            #"jointops_open_operations{phase="responding",region="hexi"} 0.0"#,
            #"jointops_open_operations{phase="reported",region="hexi"} 1.0"#,
            #"jointops_active_branches{branch="swat"} 0.0"#, #"jointops_active_branches{branch="public_order"} 0.0"#,
            #"jointops_commands_total{method="Cancel",result="ok"} 1"#,
        ] {
            #expect(after.contains(expected), "missing \(expected) in:\n\(afterText)")
        }
        #expect(daemon.stop() == 0)
    }

    @Test func aMissedDeadlineIsALateStepUntilMetAndItsRungIsCounted() throws {
        let daemon = try DaemonHarness(fastAssessment: true)
        #expect(try daemon.startArmed("OP-ML").error == nil)
        var text = ""
        for _ in 0..<100 {
            text = try Self.metrics(daemon)
            if Self.samples(text).contains("jointops_late_steps 1.0") { break }
            usleep(50_000)
        }
        let late = Self.samples(text)
        for expected in [
            "jointops_late_steps 1.0", #"jointops_deadlines_missed_total{deadline="assessment"} 1"#,
            #"jointops_escalations_total{deadline="assessment",kind="notify"} 1"#,
        ] {
            #expect(late.contains(expected), "missing \(expected) in:\n\(text)")
        }
        #expect(!late.contains { $0.hasPrefix("jointops_commands_total{method=\"timer\"") }, "timers are not operator commands")
        // Assessing at last meets the deadline: no longer late.
        #expect(try daemon.call("io.jointops.Operations.Fire", ["id": .string("OP-ML"), "event": .string("assess")]).error == nil)
        #expect(Self.samples(try Self.metrics(daemon)).contains("jointops_late_steps 0.0"))
    }

    @Test func openOperationsAreCountedAgainFromTheStoreAfterARestart() throws {
        let daemon = try DaemonHarness()
        #expect(try daemon.startArmed("OP-MR").error == nil)
        try daemon.restart()
        let samples = Self.samples(try Self.metrics(daemon))
        #expect(samples.contains(#"jointops_open_operations{phase="reported",region="hexi"} 1.0"#), "\(samples.sorted())")
        #expect(!samples.contains { $0.hasPrefix("jointops_commands_total") }, "counters start from zero with the process")
        #expect(daemon.stop() == 0)
    }

    @Test func jointopsctlMetricsPrintsTheExposition() throws {
        let daemon = try DaemonHarness()
        #expect(try daemon.startArmed("OP-MC").error == nil)
        let output = try CommandLineOutputTests.ctl(["metrics"], socket: daemon.socket)
        #expect(output.status == 0, "\(output.stderr)")
        #expect(output.stderr == "")
        #expect(output.stdout.contains("# TYPE jointops_commands_total counter\n"), "\(output.stdout)")
        #expect(output.stdout.contains(#"jointops_commands_total{method="Start",result="ok"} 1"# + "\n"))
        #expect(output.stdout.hasSuffix("\n"))
        let json = try CommandLineOutputTests.ctl(["metrics", "--json"], socket: daemon.socket)
        #expect(json.status == 0)
        #expect(try JSONParser.parse(json.stdout)["text"]?.stringValue?.contains("jointops_open_operations") == true)
    }

    @Test func theHTTPListenerServesMetricsOnLoopbackAndNothingElse() throws {
        let daemon = try DaemonHarness(configuration: "metrics_listen: 127.0.0.1:0\n")
        let port = try Self.metricsPort(daemon)
        #expect(try daemon.startArmed("OP-MH").error == nil)

        let ok = try Self.get("/metrics", port: port)
        #expect(ok.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(ok)")
        #expect(ok.lowercased().contains("content-type: text/plain; version=0.0.4; charset=utf-8\r\n"))
        let body = ok.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        #expect(Self.samples(body).contains(#"jointops_commands_total{method="Start",result="ok"} 1"#), "\(body)")
        #expect(Self.samples(body).contains(#"jointops_open_operations{phase="reported",region="hexi"} 1.0"#))

        let missing = try Self.get("/", port: port)
        #expect(missing.hasPrefix("HTTP/1.1 404 Not Found\r\n"), "\(missing)")
        #expect(missing.contains("jointopsd serves only GET /metrics"))
        let wrongMethod = try Self.request(
            "POST /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", port: port)
        #expect(wrongMethod.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n"), "\(wrongMethod)")

        // Graceful shutdown stops the listener with the rest.
        #expect(daemon.stop() == 0)
        #expect(throws: (any Error).self) { try Self.get("/metrics", port: port) }
    }

    @Test(arguments: [
        ["--metrics-listen", "0.0.0.0:9464"], ["--metrics-listen", "[::]:9464"], ["--metrics-listen", "192.0.2.7:9464"],
    ])
    func aNonLoopbackListenAddressIsRefusedAtStartWithTheReasonAndWhatToUse(_ flags: [String]) throws {
        let result = try Self.runDaemon(flags)
        // 64, a mistake in the command line, said before anything starts: systemd does not
        // restart on it (it was 1 as a flag, then 78 as though the file were wrong).
        #expect(result.status == 64, "\(result.output)")
        #expect(result.output.contains("Error: --metrics-listen: metrics listen address '"), "\(result.output)")
        #expect(result.output.contains("is not a loopback address"), "\(result.output)")
        #expect(result.output.contains("no authentication and no TLS"))
        #expect(result.output.contains("127.0.0.1:PORT or [::1]:PORT"))
    }

    @Test func aNonLoopbackListenAddressInTheConfigurationFileIsRefusedNamingTheFileAndKey() throws {
        let result = try Self.runDaemon([], configuration: "metrics_listen: 10.0.0.1:9464\n")
        #expect(result.status == 78, "a mistake in the configuration file: EX_CONFIG")
        #expect(
            result.output.contains(
                "jointopsd.yaml:1:17: error: metrics_listen: metrics listen address '10.0.0.1:9464' is not a loopback address"),
            "\(result.output)")
    }

    @Test func aMetricsPortInUseStopsTheStartSayingSo() throws {
        // Hold a port on 127.0.0.1 so the daemon cannot have it.
        let holder = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(holder) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(holder, $0, length) == 0 && listen(holder, 1) == 0 && getsockname(holder, $0, &length) == 0
            }
        }
        #expect(bound)
        let port = UInt16(bigEndian: address.sin_port)
        // Reproducer: the port was bound only once the services ran, after READY=1, so under
        // systemd a start reported success and the daemon then died (exit 1) and restarted in
        // a loop. It is bound before anything is opened now, and a port that cannot be had is a
        // configuration error: exit 78 (not restarted), the state directory untouched.
        let result = try Self.runDaemon(["--metrics-listen", "127.0.0.1:\(port)"])
        #expect(result.status == 78, "\(result.output)")
        #expect(
            result.output.contains(
                "jointopsd does not start: cannot listen for metrics on 127.0.0.1:\(port): Address already in use — another program has that port (ss -ltnp says which); choose another port, or remove metrics_listen (--metrics-listen) to serve none"
            ), "\(result.output)")
    }

    /// The cause decides the advice: under systemd a refused IP socket is the unit's sandbox
    /// (the metrics drop-in is missing), not a port to change.
    @Test func whyTheListenerCannotBeHadDecidesWhatToDo() throws {
        let address = try MetricsListenAddress(parsing: "127.0.0.1:9464")
        func says(_ code: CInt, _ address: MetricsListenAddress, service: Bool = true) -> String {
            MetricsHTTPServer.cannotListen(on: address, IOError(errnoCode: code, reason: "socket(...)"), service: service)
        }
        for code in [EAFNOSUPPORT, EPERM, EACCES] {
            let text = says(code, address)
            #expect(
                text.hasPrefix(
                    "cannot listen for metrics on 127.0.0.1:9464: \(String(cString: strerror(code))) — jointopsd's unit allows it no IP sockets (RestrictAddressFamilies=AF_UNIX, PrivateNetwork=yes, IPAddressDeny=any): install the metrics drop-in /etc/systemd/system/jointopsd.service.d/metrics.conf the README gives (\"Metrics\"), then: systemctl daemon-reload; systemctl restart jointopsd"
                ), "\(text)")
            // Run by hand no unit is to blame, and another port would not help either.
            let byHand = says(code, address, service: false)
            #expect(!byHand.contains("drop-in") && !byHand.contains("choose another port"), "\(byHand)")
        }
        #expect(
            says(EAFNOSUPPORT, try MetricsListenAddress(parsing: "[::1]:9464")).contains("this machine has no IPv6: use 127.0.0.1:9464"))
        let privileged = says(EACCES, try MetricsListenAddress(parsing: "127.0.0.1:80"))
        #expect(
            privileged.contains("ports below 1024 need a privilege jointopsd does not have; choose a port from 1024 up"), "\(privileged)")
        #expect(says(EADDRINUSE, address).contains("another program has that port"))
        #expect(says(EADDRNOTAVAIL, address).contains("this machine has no such address"))
    }

    // MARK: Helpers

    /// The port the daemon reported in its log ("serving metrics at http://127.0.0.1:PORT/metrics").
    static func metricsPort(_ daemon: DaemonHarness) throws -> UInt16 {
        for _ in 0..<200 {
            if let match = daemon.log.firstMatch(of: /serving metrics at http:\/\/127\.0\.0\.1:(\d+)\/metrics/), let port = UInt16(match.1)
            {
                return port
            }
            usleep(25_000)
        }
        throw HarnessError("the daemon never said where it serves metrics:\n\(daemon.log)")
    }

    static func get(_ path: String, port: UInt16) throws -> String {
        try request("GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", port: port)
    }

    /// Sends one HTTP request over TCP to 127.0.0.1 and reads until the server closes.
    static func request(_ text: String, port: UInt16) throws -> String {
        let descriptor = try MetricsClient.connected(port: port)
        defer { close(descriptor) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array(text.utf8)
        guard send(descriptor, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else { throw HarnessError("send failed") }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count < 0 { throw HarnessError("recv failed: errno \(errno)") }
            if count == 0 { break }
            response += buffer[..<count]
        }
        return String(decoding: response, as: UTF8.self)
    }

    /// Runs jointopsd expecting it to exit by itself; its status and stderr.
    static func runDaemon(
        _ flags: [String], configuration: String = "", expectStateUntouched: Bool = true
    ) throws -> (status: Int32, output: String) {
        let folder = URL(fileURLWithPath: "/tmp").appendingPathComponent(
            "jointopsd-metrics-refused-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let config = folder.appendingPathComponent("jointopsd.yaml")
        try configuration.write(to: config, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = DaemonHarness.buildFolder.appendingPathComponent("jointopsd")
        process.arguments =
            [
                "--config", config.path, "--state-directory", folder.appendingPathComponent("state").path, "--socket",
                folder.appendingPathComponent("control.sock").path, "--workflows",
                DaemonHarness.root.appendingPathComponent("Workflows").path,
            ] + flags
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if expectStateUntouched {
            #expect(
                !FileManager.default.fileExists(atPath: folder.appendingPathComponent("state").path),
                "refused before the store is opened")
        }
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
