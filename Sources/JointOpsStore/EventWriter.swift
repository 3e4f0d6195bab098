import Foundation
import GRDB
import JointOpsCore

/// Appends a change's events to the event log, extending the hash chain.
enum EventWriter {
    /// What of an event's row its change alone decides: the payload text and the canonical
    /// bytes up to the sequence. Built by the committing caller (`GroupCommitter.commit`, on
    /// its own task) so the single writer thread only finishes and hashes them.
    struct Prepared: Sendable {
        var payload: [UInt8]
        var canonicalPrefix: [UInt8]
    }

    static func prepare(_ change: EventStore.Change) -> [Prepared] {
        let state = change.state
        var operationSequence = Int64(state.sequence - change.events.count)
        return change.events.map { record in
            operationSequence += 1
            let payload = state.payload(of: record.event).canonicalBytes
            return Prepared(
                payload: payload,
                canonicalPrefix: EventHash.canonicalPrefix(
                    operationID: state.id, operationSequence: operationSequence, at: record.at.milliseconds, actor: record.actor,
                    kind: record.event.kind, payload: payload))
        }
    }

    static func append(_ change: EventStore.Change, head: inout ChainHead, _ db: Database, _ statements: WriteStatements) throws {
        let state = change.state
        let prepared = change.prepared.flatMap { $0.count == change.events.count ? $0 : nil } ?? prepare(change)
        var operationSequence = Int64(state.sequence - change.events.count)
        for (record, event) in zip(change.events, prepared) {
            operationSequence += 1
            try insert(
                event, operationID: state.id, operationSequence: operationSequence, at: record.at, actor: record.actor,
                kind: record.event.kind, head: &head, db, statements)
        }
    }

    /// Inserts one event row after `head`, hashed onto the chain, and moves `head` to it:
    /// the one way a row gets into the log (operations' streams and the roster's).
    static func insert(
        _ event: Prepared, operationID: String, operationSequence: Int64, at: Instant, actor: Actor?, kind: String,
        head: inout ChainHead, _ db: Database, _ statements: WriteStatements
    ) throws {
        let sequence = head.sequence + 1
        var canonical = event.canonicalPrefix
        EventHash.finishCanonical(&canonical, sequence: sequence)
        let hash = EventHash.hash(previous: head.hash, canonical: canonical)
        var insert = RawStatement(try statements.insertEvent(), db)
        insert.bind(sequence)
        insert.bind(operationID)
        insert.bind(operationSequence)
        insert.bind(at.milliseconds)
        insert.bind(actor?.uid)
        insert.bind(actor?.name)
        insert.bind(actor?.role)
        insert.bind(kind)
        insert.bindText(event.payload)
        insert.bindBlob(head.hash)
        insert.bindBlob(hash)
        try insert.run()
        head = ChainHead(sequence: sequence, hash: hash)
    }
}

extension EventStore.ClientRequest {
    /// Remembers the request with the stream it changed, for an idempotent retry.
    func insert(stream: String, at: Instant, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO client_request (id, operation_id, method, reply, at, fingerprint) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [id, stream, method, reply, at.milliseconds, fingerprint])
    }
}
