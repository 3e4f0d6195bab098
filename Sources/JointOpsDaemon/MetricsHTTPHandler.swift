import NIOCore
import NIOHTTP1

/// Answers `GET /metrics` (and `HEAD`) with the Prometheus text exposition; any other path
/// is 404 and any other method 405.
///
/// One request per connection, answered as soon as its head is read (a body is dropped):
/// the answer says `Connection: close`, and the connection's output is closed once it is
/// sent. Requests pipelined behind it are never answered, so a client that sends many and
/// reads none cannot make jointopsd hold their answers. A request that cannot be parsed is
/// told 400 (by NIO's `HTTPServerProtocolErrorHandler`, before this handler) and closed
/// likewise. Closing only the output lets the client read the answer before it sees the
/// end, rather than a reset; the connection closes fully when the client closes, or at its
/// deadline (`MetricsConnectionDeadline`).
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let metrics: DaemonMetrics
    /// The one answer has been given (or the request was refused as malformed).
    private var finished = false

    init(metrics: DaemonMetrics) { self.metrics = metrics }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Answered at the head: a body is never needed, and one that never ends (chunked)
        // must not keep the connection waiting.
        guard !finished, case .head(let head) = unwrapInboundIn(data) else { return }
        respond(to: head, context: context)
        finish(context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error {
        case is HTTPParserError, is ByteToMessageDecoderError:
            // Malformed: the 400 is written already; anything more the client sends is dropped.
            finish(context: context)
        default:
            context.close(promise: nil)
        }
    }

    /// Closes the output once what was written has been sent.
    private func finish(context: ChannelHandlerContext) {
        guard !finished else { return }
        finished = true
        context.close(mode: .output, promise: nil)
    }

    private func respond(to request: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let status: HTTPResponseStatus
        let body: String
        var headers = HTTPHeaders()
        if path != "/metrics" {
            status = .notFound
            body = "not found: jointopsd serves only GET /metrics here\n"
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        } else if request.method != .GET && request.method != .HEAD {
            status = .methodNotAllowed
            body = "method not allowed: use GET /metrics\n"
            headers.add(name: "Allow", value: "GET, HEAD")
            headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        } else {
            status = .ok
            body = metrics.exposition()
            headers.add(name: "Content-Type", value: "text/plain; version=0.0.4; charset=utf-8")
        }
        let bytes = ByteBuffer(string: body)
        headers.add(name: "Content-Length", value: String(bytes.readableBytes))
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        if request.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
