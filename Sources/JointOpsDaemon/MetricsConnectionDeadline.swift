import NIOCore

/// Closes its connection `lifetime` after it was set up, whatever the connection is doing
/// then: an idle timeout alone would spare a client that sends a byte every few seconds, or
/// one that sent its request and never reads the answer.
final class MetricsConnectionDeadline: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    private let lifetime: TimeAmount
    private var task: Scheduled<Void>?

    init(lifetime: TimeAmount) { self.lifetime = lifetime }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        task = context.eventLoop.scheduleTask(in: lifetime) { channel.close(promise: nil) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        task?.cancel()
        task = nil
    }
}
