import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The optional metrics listener: `GET /metrics` over HTTP/1.1 on a loopback address, for a
/// Prometheus scraper on this machine. Off unless `metrics_listen` / `--metrics-listen` is set.
/// On graceful shutdown it stops accepting; a scrape in flight finishes.
///
/// Any local user can reach it, so what it costs is bounded (`MetricsConnectionLimits`): at
/// most 32 connections at once (more are told 503 and closed, with a warning at most once a
/// minute), each closed 10 s after it was accepted, and one request answered on each.
///
/// It is bound at start, before the store is opened and long before READY=1 (`bind`): a
/// listener that cannot be had stops the start as a configuration error, rather than taking
/// the daemon down after systemd was told it runs. Scrapes wait in the backlog until `run`.
public struct MetricsHTTPServer: Service {
    let address: MetricsListenAddress
    let channel: any Channel
    /// The open connections, against their limit.
    let gate: MetricsConnectionGate
    let logger: Logger

    /// Binds the listener now; it accepts nothing until `run`. A failure is a configuration
    /// error (jointopsd exits 78): said with its cause and what to do about it.
    public static func bind(
        address: MetricsListenAddress, metrics: DaemonMetrics, logger: Logger
    ) async throws(DaemonError)
        -> MetricsHTTPServer
    {
        try await bind(address: address, metrics: metrics, limits: MetricsConnectionLimits(), logger: logger)
    }

    static func bind(
        address: MetricsListenAddress, metrics: DaemonMetrics, limits: MetricsConnectionLimits, logger: Logger
    ) async throws(DaemonError)
        -> MetricsHTTPServer
    {
        let gate = MetricsConnectionGate(limit: limits.open)
        do {
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.autoRead, value: false)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        switch gate.admit() {
                        case .admitted:
                            channel.closeFuture.whenComplete { _ in gate.closed() }
                            try pipeline.addHandler(MetricsConnectionDeadline(lifetime: limits.lifetime))
                            try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
                            try pipeline.addHandler(MetricsHTTPHandler(metrics: metrics))
                        case .refused(let warning):
                            if let warning {
                                warnRefused(warning, limit: gate.limit, port: channel.localAddress?.port ?? address.port, logger: logger)
                            }
                            try pipeline.addHandler(MetricsConnectionRefusal())
                        }
                    }
                }
                .bind(host: address.host, port: address.port)
                .get()
            return MetricsHTTPServer(address: address, channel: channel, gate: gate, logger: logger)
        } catch {
            throw DaemonError.configuration(cannotListen(on: address, error))
        }
    }

    /// Says that connections beyond the limit are being closed: `count` since it was last said.
    private static func warnRefused(_ count: Int, limit: Int, port: Int, logger: Logger) {
        logger.warning(
            "closed \(count) metrics connection\(count == 1 ? "" : "s") at once, as \(limit) were open already (the most jointopsd serves; a Prometheus scraper needs one or two): something on this machine holds them — ss -tnp state established '( sport = :\(port) )' shows what (said at most once a minute)"
        )
    }

    /// Why the listener at `address` could not be had, and what to do, by the errno; under
    /// systemd (`service`) an IP socket refused is the unit's sandbox.
    static func cannotListen(on address: MetricsListenAddress, _ error: any Error, service: Bool = Systemd.isService) -> String {
        let code = (error as? IOError)?.errnoCode
        let what = "cannot listen for metrics on \(address)"
        let why = code.map { String(cString: strerror($0)) } ?? "\(error)"
        let off = "or remove metrics_listen (--metrics-listen) to serve none"
        switch code {
        case EACCES? where address.port != 0 && address.port < 1024:
            return
                "\(what): \(why) — ports below 1024 need a privilege jointopsd does not have; choose a port from 1024 up (e.g. 9464), \(off)"
        case EAFNOSUPPORT?, EPERM?, EACCES?:
            let v6 = address.host.contains(":")
            guard service else {
                // Run by hand, no unit restricts it: the kernel, or a security module, said no.
                return code == EAFNOSUPPORT
                    ? "\(what): \(why) — this machine has no \(v6 ? "IPv6" : "IPv4"); use \(v6 ? "127.0.0.1" : "[::1]"):\(address.port) instead, \(off)"
                    : "\(what): \(why) — something on this machine (a security module, a seccomp filter) forbids jointopsd IP sockets; allow them, \(off)"
            }
            let noIPv6 =
                v6 && code == EAFNOSUPPORT
                ? " (if that drop-in is in place already, this machine has no IPv6: use 127.0.0.1:\(address.port))" : ""
            return
                "\(what): \(why) — jointopsd's unit allows it no IP sockets (RestrictAddressFamilies=AF_UNIX, PrivateNetwork=yes, IPAddressDeny=any): install the metrics drop-in /etc/systemd/system/jointopsd.service.d/metrics.conf the README gives (\"Metrics\"), then: systemctl daemon-reload; systemctl restart jointopsd\(noIPv6); \(off)"
        case EADDRINUSE?:
            return "\(what): \(why) — another program has that port (ss -ltnp says which); choose another port, \(off)"
        case EADDRNOTAVAIL?:
            return "\(what): \(why) — this machine has no such address; use 127.0.0.1:PORT or [::1]:PORT, \(off)"
        default:
            return "\(what): \(why) — check the address or choose another port, \(off)"
        }
    }

    public func run() async throws {
        // Accepting starts now (scrapes that came during recovery waited in the backlog).
        try await channel.setOption(.autoRead, value: true).get()
        let bound = channel.localAddress?.port.map { MetricsListenAddress.described(host: address.host, port: $0) } ?? "\(address)"
        logger.notice("serving metrics at http://\(bound)/metrics")
        // Closing the listening channel ends the wait, whether the daemon is shutting down or
        // the group is cancelled because another service failed.
        await withTaskCancellationOrGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            channel.close(promise: nil)
        }
    }

    /// Closes the listener without serving (the start failed after it was bound).
    func close() {
        channel.close(promise: nil)
    }
}
