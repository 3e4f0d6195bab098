import Foundation
import GRDB
public import JointOpsCore
import Synchronization

/// What a store holds when it is opened: the open operations and the timers to re-arm.
public struct Recovery: Sendable {
    public var operations: [OperationState]
    /// Every armed timer of an open operation, earliest first: those already past due
    /// should fire first, in this order, with their lateness.
    public var timers: [ScheduledTimer]

    /// The timers already due at `now`, earliest first: fire these before anything else.
    public func overdue(at now: Instant) -> [ScheduledTimer] { timers.prefix { $0.due <= now }.map { $0 } }
}

public struct ScheduledTimer: Sendable, Hashable {
    public var operation: String
    public var key: TimerKey
    public var due: Instant
}

/// One row of the event log, as the audit trail and the verifier see it.
public struct StoredEvent: Sendable, Hashable {
    public var sequence: Int64
    public var operation: String
    public var operationSequence: Int64
    public var at: Instant
    public var actor: Actor?
    public var kind: String
    public var payload: JSONValue
}

extension EventStore {
    /// Loads the open operations from the current-state tables, with their timers.
    ///
    /// A store of many open operations is read in parts, one per core (at most four), each
    /// on its own reader at once: all of them see the same state, as their reads begin while
    /// this holds the writer. Recovery of 100,000 operations took 1.6-1.9 s on one reader of
    /// this 2-core machine class, beyond the issue's 2 s with the integrity check before it.
    public func recover() throws(StoreError) -> Recovery {
        try recover(inParts: min(4, ProcessInfo.processInfo.activeProcessorCount))
    }

    /// `recover()` reading in at most `count` parts.
    func recover(inParts count: Int) throws(StoreError) -> Recovery {
        let workflows = try workflowsByKey()
        do {
            let parts = try pool.read { db in try Self.recoveryParts(db, count: count) }
            let results = Mutex<[Result<Recovery, any Error>?]>(Array(repeating: nil, count: parts.count))
            let done = DispatchGroup()
            pool.writeWithoutTransaction { _ in
                for (index, part) in parts.enumerated() {
                    done.enter()
                    pool.asyncConcurrentRead { db in
                        let result = Result { try Self.recover(part, try db.get(), workflows) }
                        results.withLock { $0[index] = result }
                        done.leave()
                    }
                }
            }
            done.wait()
            let recovered = try results.withLock { $0 }.map { try $0!.get() }
            return Recovery(
                operations: Self.merge(recovered.map(\.operations)) { ($0.startedAt, $0.id) < ($1.startedAt, $1.id) },
                timers: Self.merge(recovered.map(\.timers), by: Self.inFiringOrder))
        } catch {
            throw StoreError.from(error, path: options.path, doing: "recovering open operations", writing: false)
        }
    }

    /// Fewer open operations than this are read in one part: a part costs two queries.
    static let operationsWorthParts = 2000

    /// Ranges of open operation ids of about equal size, `count` of them when there are
    /// enough operations to be worth it, else one.
    static func recoveryParts(_ db: Database, count: Int) throws -> [ProjectionReader.Scope] {
        let open = try Int.fetchOne(db, sql: "SELECT count(*) FROM operation WHERE ending IS NULL") ?? 0
        guard count > 1, open >= Self.operationsWorthParts else { return [.open()] }
        var bounds: [String?] = [nil]
        for part in 1..<count {
            bounds.append(
                try String.fetchOne(
                    db, sql: "SELECT id FROM operation WHERE ending IS NULL ORDER BY id LIMIT 1 OFFSET ?", arguments: [open * part / count])
            )
        }
        bounds.append(nil)
        return (0..<count).map { .open(from: bounds[$0], below: bounds[$0 + 1]) }
    }

    /// The open operations in `scope`, in the order they started, and their timers in firing order.
    private static func recover(_ scope: ProjectionReader.Scope, _ db: Database, _ workflows: [WorkflowKey: Workflow]) throws -> Recovery {
        let snapshots = try ProjectionReader.snapshots(db, workflows: workflows, scope: scope)
        var operations: [OperationState] = []
        operations.reserveCapacity(snapshots.count)
        var timers: [ScheduledTimer] = []
        for snapshot in snapshots {
            guard let workflow = workflows[WorkflowKey(snapshot.workflow, snapshot.version)],
                let state = OperationState(snapshot, workflow: workflow)
            else {
                throw ProjectionReader.invalid("operation \(snapshot.id) does not fit its workflow")
            }
            operations.append(state)
            for timer in state.runningTimers { timers.append(ScheduledTimer(operation: state.id, key: timer.key, due: timer.due)) }
        }
        timers.sort(by: inFiringOrder)
        return Recovery(operations: operations, timers: timers)
    }

    private static func inFiringOrder(_ a: ScheduledTimer, _ b: ScheduledTimer) -> Bool {
        (a.due, a.operation, a.key) < (b.due, b.operation, b.key)
    }

    /// One array of the elements of `parts`, each already in `order`, in that order.
    static func merge<Element>(_ parts: [[Element]], by order: (Element, Element) -> Bool) -> [Element] {
        guard var merged = parts.first else { return [] }
        for part in parts.dropFirst() {
            var result: [Element] = []
            result.reserveCapacity(merged.count + part.count)
            var (left, right) = (0, 0)
            while left < merged.count, right < part.count {
                if order(part[right], merged[left]) {
                    result.append(part[right])
                    right += 1
                } else {
                    result.append(merged[left])
                    left += 1
                }
            }
            result += merged[left...]
            result += part[right...]
            merged = result
        }
        return merged
    }

    /// Every operation in the current-state tables, open or not.
    public func allOperations() throws(StoreError) -> [OperationState] {
        try operations(in: .all, doing: "reading operations")
    }

    /// A page of `List`: the `limit` ended (closed or cancelled) operations that started
    /// last before `before` (all ended ones if nil), newest first.
    public func endedOperations(before: OperationListKey?, limit: Int) throws(StoreError) -> [OperationState] {
        try operations(in: .ended(before: before, limit: limit), doing: "reading ended operations").reversed()
    }

    /// The operations in `scope`, in the order they started.
    private func operations(in scope: ProjectionReader.Scope, doing: String) throws(StoreError) -> [OperationState] {
        let workflows = try workflowsByKey()
        do {
            let snapshots = try pool.read { db in try ProjectionReader.snapshots(db, workflows: workflows, scope: scope) }
            return try snapshots.map { snapshot in
                guard let workflow = workflows[WorkflowKey(snapshot.workflow, snapshot.version)],
                    let state = OperationState(snapshot, workflow: workflow)
                else {
                    throw ProjectionReader.invalid("operation \(snapshot.id) does not fit its workflow")
                }
                return state
            }
        } catch {
            throw StoreError.from(error, path: options.path, doing: doing, writing: false)
        }
    }

    /// The reply a client request got, if it was committed.
    public func reply(toRequest id: String) throws(StoreError) -> ClientRequest? {
        do {
            return try pool.read { db in
                try Row.fetchOne(db, sql: "SELECT id, method, reply, fingerprint FROM client_request WHERE id = ?", arguments: [id]).map {
                    ClientRequest(id: $0["id"], method: $0["method"], reply: $0["reply"], fingerprint: $0["fingerprint"])
                }
            }
        } catch {
            throw StoreError.from(error, path: options.path, doing: "reading client request \(id)", writing: false)
        }
    }

    /// The id of every workflow ever loaded into the store.
    public func storedWorkflowIDs() throws(StoreError) -> Set<String> {
        do {
            return try pool.read { db in Set(try String.fetchAll(db, sql: "SELECT DISTINCT workflow FROM workflow_version")) }
        } catch {
            throw StoreError.from(error, path: options.path, doing: "reading the stored workflows", writing: false)
        }
    }

    /// One operation from the projection, open or ended.
    public func operation(_ id: String) throws(StoreError) -> OperationState? {
        try operations(in: .one(id), doing: "reading operation \(id)").first
    }

    /// An operation's events, in order.
    public func events(of operation: String) throws(StoreError) -> [StoredEvent] {
        do {
            return try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM event WHERE operation_id = ? ORDER BY operation_sequence", arguments: [operation])
                    .map(Self.storedEvent)
            }
        } catch {
            throw StoreError.from(error, path: options.path, doing: "reading the events of \(operation)", writing: false)
        }
    }

    /// A page of an operation's events, in order: those after `after` (their
    /// `operationSequence`) and none past `through`, at most `limit`. Read through the
    /// index on (operation_id, operation_sequence), so a page costs its own rows only.
    public func events(of operation: String, after: Int64, through: Int64 = .max, limit: Int) throws(StoreError) -> [StoredEvent] {
        do {
            return try pool.read { db in
                try Row.fetchAll(db, sql: Self.eventPageSQL, arguments: [operation, after, through, limit]).map(Self.storedEvent)
            }
        } catch {
            throw StoreError.from(error, path: options.path, doing: "reading the events of \(operation) after \(after)", writing: false)
        }
    }

    /// When `operation` was closed or cancelled (its last such event), nil if it was not: read
    /// from its last events back, so it costs the same for an operation of any length.
    public func endedAt(_ operation: String) throws(StoreError) -> Instant? {
        do {
            return try pool.read { db in
                try Int64.fetchOne(db, sql: Self.endedAtSQL, arguments: [operation]).map(Instant.init(milliseconds:))
            }
        } catch {
            throw StoreError.from(error, path: options.path, doing: "reading when \(operation) ended", writing: false)
        }
    }

    package static let endedAtSQL =
        "SELECT at FROM event WHERE operation_id = ? AND kind IN ('closed', 'cancelled') ORDER BY operation_sequence DESC LIMIT 1"

    /// The statement `events(of:after:through:limit:)` runs (a test checks its plan).
    package static let eventPageSQL =
        "SELECT * FROM event WHERE operation_id = ? AND operation_sequence > ? AND operation_sequence <= ? ORDER BY operation_sequence LIMIT ?"

    /// Rebuilds an operation by replaying its events from the log (not the projection).
    public func replay(_ operation: String) throws(StoreError) -> OperationState {
        let events = try events(of: operation)
        guard let first = events.first, let workflowID = first.payload["workflow"]?.stringValue,
            let version = first.payload["version"]?.intValue
        else {
            throw StoreError(.invalidData, "operation \(operation) has no 'started' event in the log")
        }
        guard let workflow = try workflowsByKey()[WorkflowKey(workflowID, Int(version))] else {
            throw StoreError(.invalidData, "operation \(operation) uses workflow '\(workflowID)' v\(version), which is not stored")
        }
        do {
            return try OperationState.replay(workflow, stored: events.map { ($0.at, $0.actor, $0.kind, $0.payload) })
        } catch {
            throw StoreError(.invalidData, "replaying \(operation) failed at \(error)")
        }
    }

    func workflowsByKey() throws(StoreError) -> [WorkflowKey: Workflow] {
        Dictionary(uniqueKeysWithValues: try workflows().map { (WorkflowKey($0.id, $0.version), $0) })
    }

    static func storedEvent(_ row: Row) throws -> StoredEvent {
        let uid: Int? = row["actor_uid"]
        let payloadText: String = row["payload"]
        guard let payload = try? JSONParser.parse(payloadText) else {
            throw StoreError(.invalidData, "event \(row["sequence"] as Int64) has a malformed payload")
        }
        return StoredEvent(
            sequence: row["sequence"], operation: row["operation_id"], operationSequence: row["operation_sequence"],
            at: Instant(milliseconds: row["at"]), actor: uid.map { Actor(uid: $0, name: row["actor_name"], role: row["actor_role"]) },
            kind: row["kind"], payload: payload)
    }
}
