import Foundation
import GRDB
import JointOpsCore

/// The result of walking the hash chain.
public struct ChainReport: Sendable, CustomStringConvertible {
    public var eventsChecked: Int
    /// The first sequence number where the chain breaks, and why; nil when it holds.
    public var firstBreak: (sequence: Int64, reason: String)?
    /// The hash of the last event: record it off the machine (`jointopsctl admin verify` prints it) to detect truncation.
    public var headHash: String

    public var isIntact: Bool { firstBreak == nil }

    public var description: String {
        if let firstBreak {
            return "chain broken at event \(firstBreak.sequence): \(firstBreak.reason) (\(eventsChecked) events checked before it)"
        }
        return "chain intact: \(eventsChecked) events, head \(headHash)"
    }
}

extension EventStore {
    /// Walks the whole event log in sequence order, recomputing every hash; names the first
    /// event where an edited, deleted, inserted or reordered row breaks the chain.
    public func verifyChain() throws(StoreError) -> ChainReport {
        do {
            return try pool.read { db in
                var previous = EventHash.genesis
                var expectedSequence: Int64 = 1
                var perOperation: [String: Int64] = [:]
                var checked = 0
                let rows = try Row.fetchCursor(db, sql: "SELECT * FROM event ORDER BY sequence")
                func broken(_ sequence: Int64, _ reason: String) -> ChainReport {
                    ChainReport(eventsChecked: checked, firstBreak: (sequence, reason), headHash: EventHash.hex(previous))
                }
                while let row = try rows.next() {
                    let sequence: Int64 = row["sequence"]
                    guard sequence == expectedSequence else {
                        return broken(
                            expectedSequence, "event \(expectedSequence) is missing (the next stored is \(sequence)): a row was deleted")
                    }
                    let stored = [UInt8](row["previous_hash"] as Data)
                    guard stored == previous else {
                        return broken(
                            sequence, "its previous hash does not match event \(sequence - 1): a row was deleted, inserted or reordered")
                    }
                    let operation: String = row["operation_id"]
                    let operationSequence: Int64 = row["operation_sequence"]
                    guard operationSequence == (perOperation[operation] ?? 0) + 1 else {
                        return broken(
                            sequence, "operation \(operation) jumps to its event \(operationSequence) after \(perOperation[operation] ?? 0)"
                        )
                    }
                    let uid: Int? = row["actor_uid"]
                    let actor = uid.map { Actor(uid: $0, name: row["actor_name"], role: row["actor_role"]) }
                    let canonical = EventHash.canonicalBytes(
                        sequence: sequence, operationID: operation, operationSequence: operationSequence, at: row["at"], actor: actor,
                        kind: row["kind"], payload: Array((row["payload"] as String).utf8))
                    let hash = EventHash.hash(previous: previous, canonical: canonical)
                    guard hash == [UInt8](row["hash"] as Data) else {
                        return broken(sequence, "its content does not match its hash: the row was edited")
                    }
                    previous = hash
                    perOperation[operation] = operationSequence
                    expectedSequence += 1
                    checked += 1
                }
                return ChainReport(eventsChecked: checked, firstBreak: nil, headHash: EventHash.hex(previous))
            }
        } catch {
            throw StoreError.from(error, path: options.path, doing: "verifying the event chain", writing: false)
        }
    }
}
