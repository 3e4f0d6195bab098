import Foundation
import GRDB
import JointOpsCore

/// Appends a change's events to the event log, extending the hash chain.
enum EventWriter {
    static func append(_ change: EventStore.Change, head: inout ChainHead, _ db: Database, _ statements: WriteStatements) throws {
        let statement = try statements.insertEvent()
        let state = change.state
        var operationSequence = Int64(state.sequence - change.events.count)
        for record in change.events {
            operationSequence += 1
            let sequence = head.sequence + 1
            let payloadBytes = state.payload(of: record.event).canonicalBytes
            let kind = record.event.kind
            let canonical = EventHash.canonicalBytes(
                sequence: sequence, operationID: state.id, operationSequence: operationSequence, at: record.at.milliseconds,
                actor: record.actor, kind: kind, payload: payloadBytes)
            let hash = EventHash.hash(previous: head.hash, canonical: canonical)
            var insert = RawStatement(statement, db)
            insert.bind(sequence)
            insert.bind(state.id)
            insert.bind(operationSequence)
            insert.bind(record.at.milliseconds)
            insert.bind(record.actor?.uid)
            insert.bind(record.actor?.name)
            insert.bind(record.actor?.role)
            insert.bind(kind)
            insert.bindText(payloadBytes)
            insert.bindBlob(head.hash)
            insert.bindBlob(hash)
            try insert.run()
            head = ChainHead(sequence: sequence, hash: hash)
        }
    }
}
