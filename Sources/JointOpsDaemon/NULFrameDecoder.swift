import NIOCore

/// Splits a Varlink byte stream into messages at each NUL, refusing messages larger than
/// `maximumBytes` (a client that never sends the NUL cannot make the daemon buffer forever).
struct NULFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    struct MessageTooLarge: Error {
        var limit: Int
    }

    let maximumBytes: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let readable = buffer.readableBytesView
        guard let end = readable.firstIndex(of: 0) else {
            if buffer.readableBytes > maximumBytes { throw MessageTooLarge(limit: maximumBytes) }
            return .needMoreData
        }
        let length = end - readable.startIndex
        if length > maximumBytes { throw MessageTooLarge(limit: maximumBytes) }
        let frame = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}
