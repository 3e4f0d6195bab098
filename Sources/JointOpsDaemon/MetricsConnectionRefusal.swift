import NIOCore

/// The whole pipeline of a metrics connection beyond the limit: it is told `503` (a scraper
/// logs the reason) and closed at once, without reading its request.
final class MetricsConnectionRefusal: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let response: String = {
        let body = "too many metrics connections are open to jointopsd; retry shortly\n"
        return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
    }()

    func channelActive(context: ChannelHandlerContext) {
        // A new socket's send buffer takes these few bytes at once, so closing right after
        // loses none of them.
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: Self.response)), promise: nil)
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
