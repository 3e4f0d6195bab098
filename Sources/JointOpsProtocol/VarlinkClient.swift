import Foundation
import Glibc
public import JointOpsCore

/// A blocking Varlink client over a Unix socket: one call, one reply (or a stream of them).
/// jointopsctl, the tests and the benchmark use it; the daemon never does. Use one client
/// from one thread at a time (it may be handed from thread to thread).
public final class VarlinkClient: @unchecked Sendable {
    public enum Failure: Error {
        /// The daemon is not there (no socket, refused, not running).
        case cannotConnect(path: String, reason: String)
        /// The connection closed before a complete reply.
        case disconnected
    }

    private let descriptor: CInt
    /// The connected socket, for a caller that multiplexes many clients itself (the
    /// benchmark's load generator); it stays the client's to close.
    public var socketDescriptor: CInt { descriptor }
    private var pending: [UInt8] = []
    /// Bytes of the current reply `skipReplies` has passed over.
    private var skippedOfReply = 0
    /// Where `recv` reads to, allocated once.
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 16)

    /// `timeout` bounds every receive (nil waits as long as it takes).
    public init(socketPath path: String, timeout: Duration? = nil) throws {
        // The socket is kept in a local until it is connected: `descriptor` is set only on
        // success, so a failed init closes it exactly once (deinit runs only for a fully
        // initialized client). Closing it twice would close whatever descriptor another
        // thread opened in between — a database file, a pipe.
        let socketDescriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard socketDescriptor >= 0 else { throw Failure.cannotConnect(path: path, reason: String(cString: strerror(errno))) }
        guard let address = UnixSocketAddress(path: path) else {
            close(socketDescriptor)
            throw Failure.cannotConnect(path: path, reason: "the socket path is too long")
        }
        let result = address.withSockaddr { connect(socketDescriptor, $0, $1) }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(socketDescriptor)
            throw Failure.cannotConnect(path: path, reason: reason)
        }
        descriptor = socketDescriptor
        setReceiveTimeout(timeout)
    }

    /// Bounds every receive from now on (nil waits as long as it takes).
    public func setReceiveTimeout(_ timeout: Duration?) {
        let limit = timeout ?? .zero  // (zero: no limit)
        var value = timeval(tv_sec: Int(limit.components.seconds), tv_usec: Int(limit.components.attoseconds / 1_000_000_000_000))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit {
        close(descriptor)
        scratch.deallocate()
    }

    /// Sends raw bytes as they are (for tests of malformed input).
    public func sendRaw(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw Failure.disconnected }
            offset += written
        }
    }

    public func send(_ call: VarlinkCall) throws {
        try sendRaw(Array(call.json.utf8) + [0])
    }

    /// The next reply on the connection.
    public func receive() throws -> VarlinkReply { try VarlinkReply(json: receiveText()) }

    /// The next reply's text, exactly as the daemon sent it.
    public func receiveText() throws -> String {
        while true {
            if let end = pending.firstIndex(of: 0) {
                let text = String(decoding: pending[..<end], as: UTF8.self)
                pending.removeSubrange(...end)
                return text
            }
            let count = recv(descriptor, scratch.baseAddress, scratch.count, 0)
            guard count > 0 else { throw Failure.disconnected }
            pending.append(contentsOf: scratch[..<count])
        }
    }

    /// Reads what has arrived, without decoding it, and returns how many whole messages that
    /// completed and how many bytes it read (for load tests whose watchers should cost the
    /// machine as little as possible). A reply that ends the stream (one without `continues`,
    /// such as WatcherTooSlow) throws `disconnected`.
    public func skipReplies() throws -> (replies: Int, bytes: Int) {
        let count = recv(descriptor, scratch.baseAddress, scratch.count, 0)
        guard count > 0 else { throw Failure.disconnected }
        let bytes = UnsafeRawBufferPointer(start: scratch.baseAddress, count: count)
        var replies = 0
        var start = 0
        while start < count {
            // Canonical replies begin {"continues":true while the stream goes on; one that
            // does not (an error) ends it. Only a reply that begins in this read is checked.
            if skippedOfReply == 0, start + 3 <= count, bytes[start + 2] != UInt8(ascii: "c") { throw Failure.disconnected }
            guard let found = memchr(scratch.baseAddress! + start, 0, count - start) else {
                skippedOfReply += count - start
                break
            }
            replies += 1
            skippedOfReply = 0
            start = UnsafeRawPointer(found) - UnsafeRawPointer(scratch.baseAddress!) + 1
        }
        return (replies, count)
    }

    /// Whether a reply can be received without blocking, waiting at most `milliseconds`.
    public func replyReady(within milliseconds: Int32) -> Bool {
        if pending.contains(0) { return true }
        var descriptorPoll = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&descriptorPoll, 1, milliseconds) > 0
    }

    /// One call, one reply.
    public func call(_ method: String, _ parameters: [String: JSONValue] = [:]) throws -> VarlinkReply {
        do {
            try send(VarlinkCall(method: method, parameters: parameters))
        } catch Failure.disconnected {
            // The daemon may have answered and closed before taking all of the call (one over
            // its size limit): that answer says why, and is still there to read.
            if let reply = try? receive() { return reply }
            throw Failure.disconnected
        }
        return try receive()
    }
}
