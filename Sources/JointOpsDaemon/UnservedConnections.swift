import NIOCore
import Synchronization

/// Connections accepted but not yet taken by the accept loop. When the listening socket
/// closes (jointopsd stopping), NIO drops those it has accepted and not handed over, and a
/// connection's `NIOAsyncChannel` released without being finished stops the process
/// ("Deinited NIOAsyncWriter without calling finish()", swift-nio issue #2813): a stop
/// while clients kept connecting crashed jointopsd. Each stays here until the loop takes
/// it; the stop finishes the rest, and refuses to wrap any accepted after it.
final class UnservedConnections: Sendable {
    private struct State {
        var closed = false
        var waiting: [ObjectIdentifier: NIOAsyncChannel<ByteBuffer, ByteBuffer>] = [:]
    }

    /// A connection accepted after the stop began: closed unserved.
    struct Closed: Error {}

    private let state = Mutex(State())

    /// Wraps an accepted channel (on its event loop) and keeps it until `taken`.
    func wrap(_ channel: any Channel) throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        try state.withLock { state throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> in
            guard !state.closed else { throw Closed() }
            let wrapped = try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            state.waiting[ObjectIdentifier(channel)] = wrapped
            return wrapped
        }
    }

    /// The accept loop has it: it is the loop's to finish.
    func taken(_ channel: any Channel) {
        _ = state.withLock { $0.waiting.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    /// Finishes and closes every connection never taken; none is wrapped after this.
    func closeUnserved() async {
        let left = state.withLock { state in
            state.closed = true
            defer { state.waiting = [:] }
            return Array(state.waiting.values)
        }
        for connection in left { try? await connection.executeThenClose { _, _ in } }
    }
}
