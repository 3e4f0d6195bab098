import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The optional metrics listener: `GET /metrics` over HTTP/1.1 on a loopback address, for a
/// Prometheus scraper on this machine. Off unless `metrics_listen` / `--metrics-listen` is set.
/// On graceful shutdown it stops accepting; a scrape in flight finishes.
public struct MetricsHTTPServer: Service {
    let address: MetricsListenAddress
    let metrics: DaemonMetrics
    let logger: Logger

    public init(address: MetricsListenAddress, metrics: DaemonMetrics, logger: Logger) {
        self.address = address
        self.metrics = metrics
        self.logger = logger
    }

    public func run() async throws {
        let metrics = self.metrics
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                        try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(metrics: metrics))
                    }
                }
                .bind(host: address.host, port: address.port)
                .get()
        } catch {
            throw DaemonError(
                "cannot listen for metrics on \(address): \(error); choose another port with --metrics-listen or metrics_listen")
        }
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
}
