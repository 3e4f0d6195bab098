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
    /// The sequence of the last event checked (0: the log is empty).
    public var headSequence: Int64 = 0

    public var isIntact: Bool { firstBreak == nil }

    public var description: String {
        if let firstBreak {
            return "chain broken at event \(firstBreak.sequence): \(firstBreak.reason) (\(eventsChecked) events checked before it)"
        }
        return "chain intact: \(eventsChecked) events, head \(headHash)"
    }
}

extension EventStore {
    /// Walks the whole event log in sequence order, up to the event last written when it
    /// began, recomputing every hash; names the first event where an edited, deleted,
    /// inserted or reordered row breaks the chain.
    ///
    /// It reads `chunk` events per read transaction: one transaction for all of them kept
    /// the WAL from being checkpointed back to its start for as long as the walk took (23 s
    /// for 5 million events in a scale audit), and it grew from 113 to 314 MB meanwhile.
    public func verifyChain(chunk: Int = 50_000) throws(StoreError) -> ChainReport {
        do {
            let head = try pool.read { db in try Int64.fetchOne(db, sql: "SELECT max(sequence) FROM event") ?? 0 }
            var walk = ChainWalk(from: nil)
            while walk.expectedSequence <= head {
                let read = try pool.read { db -> (broken: ChainReport?, rows: Int) in
                    let rows = try Row.fetchCursor(
                        db, sql: "SELECT * FROM event WHERE sequence BETWEEN ? AND ? ORDER BY sequence LIMIT ?",
                        arguments: [walk.expectedSequence, head, max(1, chunk)])
                    var count = 0
                    while let row = try rows.next() {
                        count += 1
                        if let broken = try walk.check(row) { return (broken, count) }
                    }
                    return (nil, count)
                }
                if let broken = read.broken { return broken }
                if read.rows == 0 { break }
            }
            return walk.report
        } catch {
            throw StoreError.from(error, path: options.path, doing: "verifying the event chain", writing: false)
        }
    }

    /// Checks the last `count` events the way `verifyChain` checks them all — each one's hash
    /// against its content and its link to the one before — trusting the previous hash of
    /// the first of them. Cheap (about a millisecond for 1,000), so the daemon runs it at
    /// every start: `PRAGMA quick_check` does not notice a changed byte inside a row.
    public func verifyTail(last count: Int) throws(StoreError) -> ChainReport {
        do {
            return try pool.read { db in
                let rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM event ORDER BY sequence DESC LIMIT ?", arguments: [max(0, count)]
                ).reversed()
                guard let first = rows.first else { return ChainReport(eventsChecked: 0, headHash: EventHash.hex(EventHash.genesis)) }
                // Fewer than `count`: the whole log, checked from its first event.
                let sequence: Int64 = first["sequence"]
                let anchor = rows.count < count ? nil : (sequence, [UInt8](first["previous_hash"] as Data))
                var walk = ChainWalk(from: anchor)
                for row in rows {
                    if let broken = try walk.check(row) { return broken }
                }
                return walk.report
            }
        } catch {
            throw StoreError.from(error, path: options.path, doing: "verifying the event chain's last \(count) events", writing: false)
        }
    }

}

/// A walk along the hash chain, one event at a time in sequence order: from the first event
/// of the log (`start` nil), or from the event `start.sequence`, whose predecessor's hash is
/// `start.previous`. From the middle, an operation's first event walked is not checked
/// against the operation's earlier events (they were not read).
struct ChainWalk {
    private let start: (sequence: Int64, previous: [UInt8])?
    private var previous: [UInt8]
    /// The sequence the next event must have.
    private(set) var expectedSequence: Int64
    private var perOperation: [String: Int64] = [:]
    private var checked = 0

    init(from start: (sequence: Int64, previous: [UInt8])?) {
        self.start = start
        previous = start?.previous ?? EventHash.genesis
        expectedSequence = start?.sequence ?? 1
    }

    /// The chain as walked so far, intact.
    var report: ChainReport {
        ChainReport(eventsChecked: checked, firstBreak: nil, headHash: EventHash.hex(previous), headSequence: expectedSequence - 1)
    }

    /// Checks the next event; the report of the break if the chain breaks there.
    mutating func check(_ row: Row) throws -> ChainReport? {
        func broken(_ sequence: Int64, _ reason: String) -> ChainReport {
            ChainReport(
                eventsChecked: checked, firstBreak: (sequence, reason), headHash: EventHash.hex(previous),
                headSequence: expectedSequence - 1)
        }
        let sequence: Int64 = row["sequence"]
        guard sequence == expectedSequence else {
            return broken(expectedSequence, "event \(expectedSequence) is missing (the next stored is \(sequence)): a row was deleted")
        }
        let stored = [UInt8](row["previous_hash"] as Data)
        guard stored == previous else {
            return broken(sequence, "its previous hash does not match event \(sequence - 1): a row was deleted, inserted or reordered")
        }
        let operation: String = row["operation_id"]
        let operationSequence: Int64 = row["operation_sequence"]
        let before = perOperation[operation] ?? (start == nil ? 0 : operationSequence - 1)
        guard operationSequence == before + 1 else {
            return broken(sequence, "operation \(operation) jumps to its event \(operationSequence) after \(before)")
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
        return nil
    }
}
