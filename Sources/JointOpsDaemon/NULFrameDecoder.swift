import NIOCore

/// Splits a Varlink byte stream into messages at each NUL, refusing messages larger than
/// `maximumBytes`, and closing a connection that leaves half a message unfinished for
/// `stallTimeout`, or sends no first message within it (a stalled or silent client must not
/// hold a connection slot forever: a connection that never sent a byte used to be kept).
struct NULFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    struct MessageTooLarge: Error {
        var limit: Int
    }

    let maximumBytes: Int
    let stallTimeout: TimeAmount
    private var stallGuard: Scheduled<Void>?

    init(maximumBytes: Int, stallTimeout: TimeAmount) {
        self.maximumBytes = maximumBytes
        self.stallTimeout = stallTimeout
    }

    mutating func decoderAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        stallGuard = context.eventLoop.scheduleTask(in: stallTimeout) { channel.close(promise: nil) }
    }

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let readable = buffer.readableBytesView
        guard let end = readable.firstIndex(of: 0) else {
            if buffer.readableBytes > maximumBytes { throw MessageTooLarge(limit: maximumBytes) }
            if buffer.readableBytes > 0, stallGuard == nil {
                let channel = context.channel
                stallGuard = context.eventLoop.scheduleTask(in: stallTimeout) { channel.close(promise: nil) }
            }
            return .needMoreData
        }
        stallGuard?.cancel()
        stallGuard = nil
        let length = end - readable.startIndex
        if length > maximumBytes { throw MessageTooLarge(limit: maximumBytes) }
        let frame = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        stallGuard?.cancel()
        stallGuard = nil
        return .needMoreData
    }
}
