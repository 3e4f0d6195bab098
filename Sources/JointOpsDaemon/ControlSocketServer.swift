import Foundation
import JointOpsCore
import JointOpsProtocol
import JointOpsStore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// The control socket: Varlink over a Unix socket, one task per connection, calls answered
/// in order. Learns each caller from the kernel when it connects, and tells one beyond the
/// connection limits why before closing it.
public final class ControlSocketServer: Service, Sendable {
    struct Connection: Sendable {
        var channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        var caller: Caller
    }

    let configuration: DaemonConfiguration
    let service: VarlinkService
    let engine: OperationEngine
    let logger: Logger
    let roles: PeerCredentials.RoleGroups
    private let open: OpenConnections
    private let stalledWrites = StalledWrites()
    /// Set once the socket is listening (tests and readiness wait for it).
    public let listening: AsyncStream<Void>
    private let listeningContinuation: AsyncStream<Void>.Continuation

    public init(configuration: DaemonConfiguration, engine: OperationEngine, logger: Logger) {
        self.configuration = configuration
        self.engine = engine
        self.logger = logger
        service = VarlinkService(
            engine: engine, version: Release.version, workflowsDirectory: configuration.workflowsDirectory,
            roleGroups: configuration.roleGroups)
        roles = PeerCredentials.RoleGroups(
            view: configuration.viewGroup, operate: configuration.operateGroup, admin: configuration.adminGroup)
        open = OpenConnections(limits: configuration.connectionLimits)
        (listening, listeningContinuation) = AsyncStream.makeStream(of: Void.self)
    }

    /// When the socket systemd passed belongs to another group than `groups.socket` names:
    /// jointopsd.socket's `SocketGroup=` decides, so the setting alone changed nothing.
    static func groupMismatch(ofSocket descriptor: CInt, configured: String) -> String? {
        guard let wanted = PeerCredentials.RoleGroups.gid(of: configured) else { return nil }
        var address = sockaddr_un()
        var length = socklen_t(MemoryLayout<sockaddr_un>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else { return nil }
        let path = withUnsafeBytes(of: address.sun_path) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        var info = stat()
        guard !path.isEmpty, stat(path, &info) == 0, info.st_gid != wanted else { return nil }
        let actual = StoreError.name(ofGroup: info.st_gid)
        return
            "the control socket \(path) is systemd's (jointopsd.socket): its group is \(actual), not groups.socket '\(configured)', "
            + "so members of \(configured) may not connect; to change it: systemctl edit jointopsd.socket, add [Socket] SocketGroup=\(configured), "
            + "then systemctl restart jointopsd.socket jointopsd"
    }

    /// How long a refused connection is kept for its first call to arrive (see `refuse`).
    static let refusalLinger = TimeAmount.seconds(2)

    public func run() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let roles = self.roles
        let maximumBytes = configuration.maxMessageBytes
        let stallTimeout = TimeAmount.milliseconds(Int64(configuration.stalledMessageMilliseconds))
        let logger = logger
        let unserved = UnservedConnections()
        let initializer: @Sendable (any Channel) -> EventLoopFuture<Connection> = { channel in
            PeerCredentials.caller(of: channel, roles: roles).flatMapThrowing { caller in
                try channel.pipeline.syncOperations.addHandler(
                    ByteToMessageHandler(NULFrameDecoder(maximumBytes: maximumBytes, stallTimeout: stallTimeout)))
                return Connection(channel: try unserved.wrap(channel), caller: caller)
            }.flatMapError { error in
                // Closed, not left open: a connection that fails here was never counted or
                // served, and kept its file descriptor until jointopsd had none left.
                if !(error is UnservedConnections.Closed) { logger.warning("\(PeerCredentials.unknownCaller(error))") }
                return channel.close().flatMapThrowing { throw error }
            }
        }
        let bootstrap = ServerBootstrap(group: group).serverChannelOption(.backlog, value: 4096)
        let server: NIOAsyncChannel<Connection, Never>
        /// The inode of the socket file we made, to remove it on the way out only if it is
        /// still ours (a socket systemd made is systemd's, and queues connections for the next start).
        var ownSocket: ino_t?
        if let descriptor = Systemd.listeningDescriptor(named: "control") {
            // Socket activation: systemd made the socket (its path, mode and group come from
            // jointopsd.socket), and connections made while we started wait in its queue.
            server = try await bootstrap.bind(descriptor, childChannelInitializer: initializer)
            logger.info("listening on the socket systemd passed (control)")
            if let mismatch = Self.groupMismatch(ofSocket: descriptor, configured: configuration.socketGroup) {
                logger.warning("\(mismatch)")
            }
        } else {
            // A socket file left by a daemon that died is removed and bound anew; one that a
            // running daemon listens on is not taken over (checked again here: one may have
            // started since the daemon's start checked).
            try Self.refuseIfListening(configuration.socketPath)
            server = try await bootstrap.bind(
                unixDomainSocketPath: configuration.socketPath, cleanupExistingSocketFile: true, childChannelInitializer: initializer)
            chmod(configuration.socketPath, 0o660)
            if let group = PeerCredentials.RoleGroups.gid(of: configuration.socketGroup) {
                chown(configuration.socketPath, uid_t.max, group)
            } else {
                logger.notice(
                    "group \(configuration.socketGroup) does not exist: the control socket stays in the daemon's group (mode 0660)")
            }
            logger.info("listening on \(configuration.socketPath)")
            var info = stat()
            if stat(configuration.socketPath, &info) == 0 { ownSocket = info.st_ino }
        }
        defer {
            var info = stat()
            if let ownSocket, stat(configuration.socketPath, &info) == 0, info.st_ino == ownSocket {
                unlink(configuration.socketPath)
            }
        }
        let limits = configuration.connectionLimits
        if let shortfall = OpenFileLimit.shortfall(limits, limit: OpenFileLimit.raise()) { logger.warning("\(shortfall)") }
        logger.info(
            "accepting \(limits.total) connections at once; callers without the admin role \(limits.total - limits.adminReserve) together and \(limits.perUser) each"
        )
        for (role, name) in [("view", roles.view), ("operate", roles.operate), ("admin", roles.admin)]
        where PeerCredentials.RoleGroups.gid(of: name) == nil {
            logger.notice(
                "group \(name) (groups.\(role)) does not exist: nobody has the \(role) role through it until it is created (groupadd \(name); no restart needed)"
            )
        }
        listeningContinuation.yield()
        // Clients that stopped reading are looked for four times per limit (at most once a second).
        let stallLimit = Duration.milliseconds(configuration.stalledMessageMilliseconds)
        let sweepEvery = TimeAmount.milliseconds(Int64(max(1, min(1000, configuration.stalledMessageMilliseconds / 4))))
        let sweep = group.next().scheduleRepeatedTask(initialDelay: sweepEvery, delay: sweepEvery) { [stalledWrites, logger] _ in
            stalledWrites.closeStalled(waitingLongerThan: stallLimit) { client in
                logger.warning(
                    "client uid \(client.uid) stopped reading: a write to it waited more than stalled_message_ms (\(stallLimit)) without the client taking any of it, so its connection was closed"
                )
            }
        }
        defer { sweep.cancel() }
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { tasks in
                defer { tasks.addTask { await unserved.closeUnserved() } }
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        unserved.taken(connection.channel.channel)
                        switch open.admit(connection.channel.channel, connection.caller) {
                        case .admitted:
                            tasks.addTask { await self.serve(connection) }
                        case .refused(let error, let reply):
                            let reason = error.parameters["reason"]?.stringValue ?? error.name
                            logger.warning("refused a connection from uid \(connection.caller.uid): \(reason)")
                            if reply {
                                tasks.addTask { await self.refuse(connection, error) }
                            } else {
                                await Self.turnAway(connection)
                            }
                        case .stopping:
                            await Self.turnAway(connection)
                        }
                    }
                }
            }
        } onGracefulShutdown: {
            // Stop accepting: closing the listening socket ends the accept loop; in-flight
            // calls finish, watchers are told the daemon is going away.
            self.logger.notice("stopping: no new connections; finishing the calls in flight, then closing the store")
            server.channel.close(promise: nil)
            self.open.closeIdle()
            Task { await self.engine.shutdown() }
        }
    }

    /// Closes a connection turned away unheard. Through `executeThenClose`, which finishes its
    /// writer: a wrapper released unfinished stops the process ("Deinited NIOAsyncWriter
    /// without calling finish()"), and connections accepted while stopping crashed jointopsd.
    private static func turnAway(_ connection: Connection) async {
        try? await connection.channel.executeThenClose { _, _ in }
    }

    /// Refuses to go on when something accepts connections on the socket at `path`: taking
    /// the path over (unlink and bind again) would hide that daemon from its operators, and
    /// our socket's removal at our exit would leave it unreachable. Nothing there, or a socket
    /// file nobody listens on (a daemon that died left it; connecting is refused), is fine.
    static func refuseIfListening(_ path: String) throws(DaemonError) {
        // Something else at the path is not removed to make room (NIO would refuse it with a
        // bare `UnixDomainSocketPathWrongType`).
        var status = stat()
        if lstat(path, &status) == 0, status.st_mode & S_IFMT != S_IFSOCK {
            let isFolder = status.st_mode & S_IFMT == S_IFDIR
            let example = isFolder ? ", e.g. \((path as NSString).appendingPathComponent("control.sock"))" : ""
            throw DaemonError.configuration(
                "the socket path \(path) is \(isFolder ? "a directory" : "a file, not a socket"): set socket (--socket) to a path of its own for the socket\(example)"
            )
        }
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard probe >= 0 else { return }  // no descriptor to spare: binding will say so
        defer { close(probe) }
        guard let address = UnixSocketAddress(path: path) else { return }  // binding will say so
        let connected = address.withSockaddr { connect(probe, $0, $1) }
        let code = connected == 0 ? 0 : errno
        switch code {
        case ENOENT, ECONNREFUSED:
            return
        case 0, EAGAIN, EINPROGRESS:
            // Connected, or its queue of connections is full: either way, someone listens.
            throw DaemonError("another jointopsd is listening on \(path); stop it first, or choose another --socket")
        default:
            throw DaemonError(
                "cannot tell whether another jointopsd is listening on \(path) (connecting to it failed: \(String(cString: strerror(code)))); stop the daemon that made it, or remove the file if none runs, or choose another --socket"
            )
        }
    }

    /// Answers one connection's calls in order until it closes.
    private func serve(_ connection: Connection) async {
        let caller = connection.caller
        let channel = connection.channel.channel
        // Every write is marked while it waits, so a client that stops reading (a watcher
        // left in `less`, a script that sends and never reads) is closed by the sweep.
        let stallable = stalledWrites.register(channel, uid: caller.uid)
        defer {
            stalledWrites.unregister(stallable)
            open.closed(channel)
        }
        do {
            try await connection.channel.executeThenClose { inbound, outbound in
                func send(_ reply: VarlinkReply) async throws {
                    try await stallable.write { try await outbound.write(Self.frame(reply, channel.allocator)) }
                }
                func sendBuffer(_ buffer: ByteBuffer) async throws { try await stallable.write { try await outbound.write(buffer) } }
                do {
                    for try await frame in inbound {
                        // Stopping: a call read after the idle connections were closed is not
                        // run (its reply could not reach the caller); the caller sees the
                        // connection close, and nothing was applied.
                        guard open.begin(channel) else { return }
                        let call: VarlinkCall
                        // Refused rather than repaired: a replaced byte would change what was asked.
                        let text = frame.withUnsafeReadableBytes { String(validating: $0, as: UTF8.self) }
                        do {
                            guard let text else {
                                throw VarlinkError.invalidParameter("(message)", because: "not UTF-8 text; send JSON encoded as UTF-8")
                            }
                            call = try VarlinkCall(json: text)
                        } catch {
                            if !(text.map(VarlinkCall.asksForNoReply) ?? false) { try await send(Self.reply(for: error)) }
                            if open.answered(channel) { return }
                            continue
                        }
                        if call.method == "io.jointops.Operations.Watch" {
                            try await watch(call, caller: caller, on: channel, send: send, sendBuffer: sendBuffer)
                        } else {
                            do {
                                let parameters = try await service.answer(call, from: caller)
                                if !call.oneway, case .object(let members) = parameters {
                                    try await send(VarlinkReply(parameters: members))
                                }
                            } catch {
                                if !call.oneway { try await send(Self.reply(for: error)) }
                            }
                        }
                        // Stopping: this call is answered, so the connection closes now.
                        if open.answered(channel) { return }
                    }
                } catch let error as NULFrameDecoder.MessageTooLarge {
                    try? await send(
                        VarlinkReply(
                            VarlinkError.invalidParameter(
                                "(message)",
                                because:
                                    "a message may be at most \(error.limit) bytes (jointopsd's max_message_bytes); send less at a time (a roster in parts), or raise that setting; the connection is closed"
                            )))
                }
            }
        } catch {
            logger.debug("connection of uid \(caller.uid) ended: \(error)")
        }
    }

    /// Tells a connection beyond a limit why it is closed. The error goes out at once, and
    /// a client reads it as the reply to its first call; the connection closes once that
    /// call has arrived (closing before would make the client's send fail, and it would never
    /// read the reply), when the client hangs up, or after `refusalLinger`.
    private func refuse(_ connection: Connection, _ error: VarlinkError) async {
        let channel = connection.channel.channel
        let linger = channel.eventLoop.scheduleTask(in: Self.refusalLinger) { channel.close(promise: nil) }
        defer {
            linger.cancel()
            open.refused()
        }
        try? await connection.channel.executeThenClose { inbound, outbound in
            try await outbound.write(Self.frame(VarlinkReply(error), channel.allocator))
            for try await _ in inbound { return }
        }
    }

    /// A reply as sent: its JSON and the NUL that ends it.
    static func frame(_ reply: VarlinkReply, _ allocator: ByteBufferAllocator) -> ByteBuffer {
        let bytes = reply.jsonBytes
        var buffer = allocator.buffer(capacity: bytes.count + 1)
        buffer.writeBytes(bytes)
        buffer.writeInteger(UInt8(0))
        return buffer
    }

    static func reply(for error: any Error) -> VarlinkReply {
        if let error = error as? VarlinkError { return VarlinkReply(error) }
        return VarlinkReply(
            VarlinkError("io.jointops.Operations.StorageFailure", ["kind": .string("internal"), "message": .string("\(error)")]))
    }

    /// Streams a watch: the matching operations, then every change, until the client goes
    /// away, falls behind, or the daemon stops.
    private func watch(
        _ call: VarlinkCall, caller: Caller, on channel: any Channel, send: (VarlinkReply) async throws -> Void,
        sendBuffer: (ByteBuffer) async throws -> Void
    ) async throws {
        let subscription: WatchHub.Subscription
        do {
            try service.authorize(call, caller)
            guard call.more else { throw VarlinkError.expectedMore }
            guard !call.oneway else {
                throw VarlinkError.invalidParameter(
                    "oneway", because: "a watch is a stream of replies, and 'oneway' asks for none; leave it out")
            }
            let q = try Parameters(call.parameters, known: ["operation", "region", "branch"])
            let filter = WatchFilter(
                operation: try q.optionalString("operation"), region: try q.optionalString("region"), branch: try q.optionalString("branch")
            )
            subscription = try await engine.watch(
                filter, buffer: configuration.watchBuffer, interval: .milliseconds(configuration.watchIntervalMilliseconds))
        } catch {
            // A oneway watch asks for no reply, so it gets none, not even why it cannot be one.
            if !call.oneway { try await send(Self.reply(for: error)) }
            return
        }
        defer { engine.hub.unsubscribe(subscription) }
        // A watcher that hangs up ends its watch now, not at the next write to it: one
        // following a quiet operation would otherwise hold its connection for hours.
        let hub = engine.hub
        channel.closeFuture.whenComplete { _ in hub.unsubscribe(subscription) }
        // An empty write returns once the connection is writable again (its client has
        // read most of what it was sent).
        let ready = { if !channel.isWritable { try await sendBuffer(ByteBuffer()) } }
        try await subscription.deliver(ready: ready) { batch in
            switch batch {
            case .replies(let encoded):
                try await sendBuffer(encoded)
            case .operationEnded:
                try await send(VarlinkReply(parameters: ["ended": .bool(true)]))
            case .daemonStopping:
                try await send(VarlinkReply(VarlinkError("io.jointops.Operations.DaemonStopping", [:])))
            case .tooSlow(let buffered):
                logger.warning("watcher uid \(caller.uid) fell \(buffered) changes behind and was disconnected")
                try await send(
                    VarlinkReply(VarlinkError("io.jointops.Operations.WatcherTooSlow", ["buffered": .int(Int64(buffered))])))
            }
        }
    }
}
