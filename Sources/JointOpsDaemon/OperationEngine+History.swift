import JointOpsCore
import JointOpsProtocol
import JointOpsStore

/// `History`, a page at a time: a trail grows without bound (the roster's over a year:
/// 401,000 events, a 91 MB reply that took jointopsd to 508 MB), so a call reads and
/// answers at most `limit` events, away from the engine.
extension OperationEngine {
    /// How many of an operation's earlier events a page's replay reads at a time.
    static let historyReplayChunk = 1000

    /// The trail of an operation, or of the roster (`@units`), in stream order: the events
    /// after `after` (an `operationSequence`; 0 is the start), at most `limit`. `next` is
    /// set when more may follow: the last event's `operationSequence`, the `after` of the
    /// next page.
    ///
    /// An operation's descriptions need the operation as it stood at each event, so a page
    /// far into a long operation costs a replay of every event before it (read
    /// `historyReplayChunk` at a time, never all at once); the roster's events need none.
    public func history(_ id: String, limit: Int, after: Int64) async throws(VarlinkError) -> JSONValue {
        let open = operations[id]
        let history = try await readAway { store throws(StoreError) -> JSONValue? in
            if id == UnitChange.stream {
                let read = try store.events(of: id, after: after, limit: limit + 1)
                return Self.historyPage(read, limit: limit) { $0.map(Self.rosterEvent) }
            }
            guard let workflow = (open ?? (try? store.operation(id)) ?? nil)?.workflow else { return nil }
            var walker = try Self.walker(of: id, workflow, replayedThrough: after, in: store)
            let read = try store.events(of: id, after: after, limit: limit + 1)
            return Self.historyPage(read, limit: limit) { History.events($0, &walker) }
        }
        guard let history else { throw VarlinkError("io.jointops.Operations.OperationNotFound", ["id": .string(id)]) }
        return history
    }

    /// The operation as it stood after its event `last`: its events up to there replayed,
    /// `chunk` at a time.
    static func walker(
        of id: String, _ workflow: Workflow, replayedThrough last: Int64, in store: EventStore, chunk: Int = historyReplayChunk
    ) throws(StoreError) -> History.Walker {
        var walker = History.Walker(workflow: workflow)
        var replayed: Int64 = 0
        while replayed < last {
            let read = try store.events(of: id, after: replayed, through: last, limit: chunk)
            guard let end = read.last else { break }
            for record in read { _ = walker.step(record) }
            replayed = end.operationSequence
        }
        return walker
    }

    /// The reply: the first `limit` of `read` (which has one more when more follow) as
    /// `views` makes them, and `next` when there are more.
    private static func historyPage(_ read: [StoredEvent], limit: Int, views: ([StoredEvent]) -> [JSONValue]) -> JSONValue {
        let shown = Array(read.prefix(limit))
        var reply: [String: JSONValue] = ["events": .array(views(shown))]
        if read.count > limit, let last = shown.last { reply["next"] = .int(last.operationSequence) }
        return .object(reply)
    }

    /// A change of the roster's own stream, with the unit it is about.
    private static func rosterEvent(_ record: StoredEvent) -> JSONValue {
        let unit = record.payload["unit"]?.stringValue ?? record.payload["id"]?.stringValue ?? "?"
        let detail = record.payload["to"]?.stringValue.map { " → \($0)" } ?? ""
        return Views.event(
            sequence: record.sequence, operationSequence: record.operationSequence, operation: record.operation,
            at: record.at, actor: record.actor, kind: record.kind, description: "\(record.kind) \(unit)\(detail)")
    }
}
