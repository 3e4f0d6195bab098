import JointOpsCore
import JointOpsProtocol
import JointOpsStore
import NIOCore

/// The replies that open watches: the matching operations as they stood when the watches
/// subscribed, encoded away from the engine, once for all the watches that subscribed at the
/// same place in the log with the same filter.
struct WatchOpening {
    struct Key: Hashable {
        /// The place in the hub's log the watches start after.
        var opened: Int
        var filter: WatchFilter
    }

    let key: Key
    let replies: Task<[ByteBuffer], Never>
    /// The watches waiting for it: it is dropped when the last has it.
    var waiting = 1
}

extension OperationEngine {
    /// Subscribes a watcher: the matching operations as they stand, then every change. A
    /// filter that could never match (an unknown or ended operation, a branch no workflow
    /// has, a region outside the jurisdiction) is refused rather than left waiting in silence.
    ///
    /// The engine only picks the matching operations; their views are built and encoded away
    /// from it, and shared with the watches subscribing meanwhile at the same place: with
    /// 5,000 open operations, 200 boards reconnecting at once (after a restart) held every
    /// command for 12 s and the watchdog's status for more than `WatchdogSec`.
    public func watch(
        _ filter: WatchFilter, buffer: Int, interval: Duration = .zero
    ) async throws(VarlinkError)
        -> WatchHub.Subscription
    {
        var filter = filter
        try checkCanMatch(filter)
        if let region = filter.region { filter.regionScope = try regionScope(region, parameter: "region") }
        let subscription = hub.subscribe(filter, buffer: buffer, interval: interval)
        let key = WatchOpening.Key(opened: subscription.opened, filter: filter)
        let replies: Task<[ByteBuffer], Never>
        if let shared = opening, shared.key == key {
            replies = shared.replies
            opening!.waiting += 1
        } else {
            let matching = operations.values.filter { filter.matches($0) }
            replies = Task.detached { [self] in await encodeOpening(matching) }
            opening = WatchOpening(key: key, replies: replies)
        }
        let encoded = await replies.value
        if opening?.key == key {
            opening!.waiting -= 1
            if opening!.waiting == 0 { opening = nil }
        }
        subscription.send(encoded: encoded)
        if let fault = committer.fault { subscription.send(["storeFault": Views.storeFault(fault)]) }
        subscription.send(["current": .bool(true)])
        return subscription
    }

    /// The operations in the order they started, one `operation` reply each, in buffers of at
    /// most `WatchHub.batchBytes` (a watcher takes at most one at a time).
    private nonisolated func encodeOpening(_ states: [OperationState]) async -> [ByteBuffer] {
        let encoded = await awayFromEngine { () throws(Never) -> [ByteBuffer] in
            var buffers: [ByteBuffer] = []
            var buffer = ByteBuffer()
            for state in states.sorted(by: { $0.startedAt < $1.startedAt }) {
                let reply = WatchHub.encoded(["operation": Views.operation(state)])
                if buffer.readableBytes > 0, buffer.readableBytes + reply.readableBytes > WatchHub.batchBytes {
                    buffers.append(buffer)
                    buffer = ByteBuffer()
                }
                buffer.writeImmutableBuffer(reply)
            }
            if buffer.readableBytes > 0 { buffers.append(buffer) }
            return buffers
        }
        switch encoded {
        case .success(let buffers): return buffers
        }
    }

    private func checkCanMatch(_ filter: WatchFilter) throws(VarlinkError) {
        if let id = filter.operation, operations[id] == nil {
            guard let ended = try storeRead({ () throws(StoreError) in try store.operation(id) }) else {
                throw VarlinkError("io.jointops.Operations.OperationNotFound", ["id": .string(id)])
            }
            throw VarlinkError(
                "io.jointops.Operations.CommandRefused",
                [
                    "code": .string(Refusal.Code.operationEnded.rawValue),
                    "reason": .string(
                        "\(id) has ended (\(ended.phaseName)\(ended.ending.map { ": \($0)" } ?? "")), so nothing about it will change; 'jointopsctl show \(id)' and 'jointopsctl history \(id)' tell how it went"
                    ),
                    "phase": .string(ended.phaseName), "allowed": .array([]),
                ])
        }
        if let branch = filter.branch { try checkBranchName(branch, parameter: "branch") }
    }
}
