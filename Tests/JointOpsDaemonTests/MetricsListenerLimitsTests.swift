import Foundation
import NIOCore
import Synchronization
import Testing

@testable import JointOpsDaemon

/// What the unauthenticated metrics listener lets any local user cost jointopsd: a bounded
/// number of connections, each for a bounded time, with one answer each. Served in the
/// test's own process, so the deadline can be a second instead of ten.
@Suite(.serialized) struct MetricsListenerLimitsTests {
    @Test func connectionsBeyondTheCapAreToldBusyAndClosedWhileAScrapeStillGetsIn() async throws {
        let log = RecordedLog()
        let server = try await Self.serve(MetricsConnectionLimits(lifetime: .seconds(60)), log: log)
        defer { server.close() }
        let limit = MetricsConnectionLimits.defaultOpen
        // Reproducer: 20,000 idle connections took every file descriptor and jointopsd crashed.
        let clients = try (0..<limit + 8).map { _ in try MetricsClient(port: server.port) }
        try await Self.until("the 8 beyond the cap answered") { clients.filter(\.hasData).count == 8 }
        try await Task.sleep(for: .milliseconds(300))  // and no more than those
        #expect(server.gate.open == limit)
        var refused = 0
        for client in clients {
            guard client.hasData else { continue }
            let answer = try client.readToEnd()
            #expect(answer.eof, "a refused connection is closed at once")
            #expect(answer.text.isEmpty || answer.text.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"), "\(answer.text)")
            refused += 1
        }
        #expect(refused == 8)
        let warnings = log.all.filter { $0.hasPrefix("warning: closed") }
        #expect(warnings.count == 1, "warned once, not for each: \(log.all)")
        #expect(warnings.first?.contains("as \(limit) were open already") == true)

        // Once one of them goes, a scraper gets in.
        clients.first { !$0.closed }?.close()
        try await Self.until("a slot free") { server.gate.open < limit }
        let scrape = try MetricsClient(port: server.port)
        try scrape.send("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
        #expect(try scrape.readToEnd().text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        // Each is closed by jointopsd as soon as its client goes, answered or not.
        scrape.close()
        for client in clients { client.close() }
        try await Self.until("all closed") { server.gate.open == 0 }
    }

    @Test func aConnectionIsClosedAtItsDeadlineIdleOrHalfwayThroughItsRequest() async throws {
        let server = try await Self.serve(MetricsConnectionLimits(lifetime: .seconds(1)))
        defer { server.close() }
        let idle = try MetricsClient(port: server.port)
        let slow = try MetricsClient(port: server.port)
        try slow.send("GET /metrics HTTP/1.1\r\nHost: local")
        let start = ContinuousClock.now
        for client in [idle, slow] {
            let answer = try client.readToEnd(timeout: 8)
            #expect(answer.eof, "closed by jointopsd")
            #expect(answer.text == "")
        }
        let elapsed = ContinuousClock.now - start
        #expect(elapsed > .milliseconds(700) && elapsed < .seconds(4), "\(elapsed)")
        try await Self.until("all closed") { server.gate.open == 0 }
    }

    @Test func pipelinedRequestsAreNotAnsweredTheConnectionEndsAfterTheFirst() async throws {
        let server = try await Self.serve(MetricsConnectionLimits(lifetime: .seconds(60)))
        defer { server.close() }
        // Reproducer: 30,000 pipelined requests never read took jointopsd from 299 MB to 1.18 GB.
        let client = try MetricsClient(port: server.port)
        try client.send(String(repeating: "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n", count: 1_000))
        let start = ContinuousClock.now
        let (text, eof) = try client.readToEnd()
        #expect(eof, "ended after the first answer, long before the deadline")
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(text.prefix(200))")
        let answers = text.components(separatedBy: "HTTP/1.1 ").count - 1
        #expect(answers == 1, "one answer only")
        #expect(text.lowercased().contains("\r\nconnection: close\r\n"), "\(text.prefix(200))")
    }

    @Test(arguments: [
        ("\u{0}garbage\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"),
        ("GET /metrics HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "HTTP/1.1 400 Bad Request\r\n"),
        ("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n", "HTTP/1.1 404 Not Found\r\n"),
        ("DELETE /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n", "HTTP/1.1 405 Method Not Allowed\r\n"),
        // A body that never ends does not keep the answer waiting.
        ("POST /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffff\r\naaaa", "HTTP/1.1 405 Method Not Allowed\r\n"),
        ("GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n", "HTTP/1.1 200 OK\r\n"),
    ])
    func everyAnswerClosesTheConnectionErrorsIncluded(_ request: String, _ status: String) async throws {
        let server = try await Self.serve(MetricsConnectionLimits(lifetime: .seconds(60)))
        defer { server.close() }
        let client = try MetricsClient(port: server.port)
        try client.send(request)
        let answer = try client.readToEnd()
        #expect(answer.text.hasPrefix(status), "\(answer.text)")
        #expect(answer.text.lowercased().contains("\r\nconnection: close\r\n"), "\(answer.text)")
        // Reproducer: after "400 Bad Request … Connection: close" the connection was still open 20 s later.
        #expect(answer.eof, "closed after the answer, not at the deadline")
    }

    @Test func refusalsAreWarnedAboutAtMostOnceAMinute() {
        let now = Mutex(NIODeadline.uptimeNanoseconds(1_000_000_000))
        let gate = MetricsConnectionGate(limit: 1) { now.withLock { $0 } }
        #expect(gate.admit() == .admitted)
        #expect(gate.admit() == .refused(warning: 1))
        #expect(gate.admit() == .refused(warning: nil))
        now.withLock { $0 = $0 + .seconds(59) }
        #expect(gate.admit() == .refused(warning: nil))
        now.withLock { $0 = $0 + .seconds(1) }
        #expect(gate.admit() == .refused(warning: 3), "the three refused since the last warning")
        gate.closed()
        #expect(gate.admit() == .admitted)
    }

    // MARK: Helpers

    /// A listener on a free loopback port, accepting.
    static func serve(_ limits: MetricsConnectionLimits, log: RecordedLog = RecordedLog()) async throws -> MetricsHTTPServer {
        let server = try await MetricsHTTPServer.bind(
            address: MetricsListenAddress(parsing: "127.0.0.1:0"), metrics: DaemonMetrics(), limits: limits, logger: log.logger)
        try await server.channel.setOption(.autoRead, value: true).get()
        return server
    }

    static func until(_ what: String, _ condition: () -> Bool) async throws {
        for _ in 0..<200 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(25))
        }
        throw HarnessError("never: \(what)")
    }
}

extension MetricsHTTPServer {
    var port: UInt16 { UInt16(channel.localAddress?.port ?? 0) }
}

/// One TCP connection to the metrics listener, by plain sockets.
final class MetricsClient {
    private var descriptor: Int32
    var closed: Bool { descriptor < 0 }

    init(port: UInt16) throws { descriptor = try Self.connected(port: port) }

    /// A TCP socket connected to 127.0.0.1:`port` (the metrics tests' one way of connecting).
    static func connected(port: UInt16) throws -> Int32 {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw HarnessError("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            let code = errno
            Glibc.close(descriptor)
            throw HarnessError("cannot connect to 127.0.0.1:\(port): errno \(code)")
        }
        return descriptor
    }

    deinit { close() }

    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw HarnessError("send failed: errno \(errno)") }
            sent += count
        }
    }

    /// Something to read now (an answer, or the end).
    var hasData: Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 1
    }

    /// Reads until the server closes (`eof`) or `timeout` seconds pass without it.
    func readToEnd(timeout: Int = 4) throws -> (text: String, eof: Bool) {
        var timeval = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeval, socklen_t(MemoryLayout<timeval>.size))
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count == 0 { return (String(decoding: response, as: UTF8.self), true) }
            if count < 0 {
                if errno == ECONNRESET { return (String(decoding: response, as: UTF8.self), true) }
                if errno == EAGAIN || errno == EWOULDBLOCK { return (String(decoding: response, as: UTF8.self), false) }
                throw HarnessError("recv failed: errno \(errno)")
            }
            response += buffer[..<count]
        }
    }
}
