import Foundation
import GRDB
public import JointOpsCore

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
    public func recover() throws(StoreError) -> Recovery {
        let workflows = try workflowsByKey()
        do {
            let snapshots = try pool.read { db in try ProjectionReader.snapshots(db, workflows: workflows, openOnly: true) }
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
            timers.sort { ($0.due, $0.operation, $0.key) < ($1.due, $1.operation, $1.key) }
            return Recovery(operations: operations, timers: timers)
        } catch {
            throw StoreError.from(error, path: options.path, doing: "recovering open operations", writing: false)
        }
    }

    /// Every operation in the current-state tables, open or not.
    public func allOperations() throws(StoreError) -> [OperationState] {
        let workflows = try workflowsByKey()
        do {
            let snapshots = try pool.read { db in try ProjectionReader.snapshots(db, workflows: workflows, openOnly: false) }
            return try snapshots.map { snapshot in
                guard let workflow = workflows[WorkflowKey(snapshot.workflow, snapshot.version)],
                    let state = OperationState(snapshot, workflow: workflow)
                else {
                    throw ProjectionReader.invalid("operation \(snapshot.id) does not fit its workflow")
                }
                return state
            }
        } catch {
            throw StoreError.from(error, path: options.path, doing: "reading operations", writing: false)
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
        let workflows = try workflowsByKey()
        do {
            guard
                let snapshot = try pool.read({ db in try ProjectionReader.snapshots(db, workflows: workflows, openOnly: false, id: id) })
                    .first
            else {
                return nil
            }
            guard let workflow = workflows[WorkflowKey(snapshot.workflow, snapshot.version)],
                let state = OperationState(snapshot, workflow: workflow)
            else {
                throw ProjectionReader.invalid("operation \(id) does not fit its workflow")
            }
            return state
        } catch {
            throw StoreError.from(error, path: options.path, doing: "reading operation \(id)", writing: false)
        }
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
