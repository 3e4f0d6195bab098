import Foundation
import GRDB
import Synchronization

/// The last event of the chain, read inside the writing transaction (so it can never
/// disagree with the disk).
struct ChainHead: Sendable {
    var sequence: Int64
    var hash: [UInt8]

    static func read(_ db: Database) throws -> ChainHead {
        guard let row = try Row.fetchOne(db, sql: "SELECT sequence, hash FROM event ORDER BY sequence DESC LIMIT 1") else {
            return ChainHead(sequence: 0, hash: EventHash.genesis)
        }
        let data: Data = row["hash"]
        let hash = [UInt8](data)
        return ChainHead(sequence: row["sequence"], hash: hash)
    }
}

/// The chain head as the last committed transaction left it, so a transaction need not read
/// it back from the log. It is used only when `PRAGMA data_version` shows that no other
/// connection committed since (this connection's own commits do not change it), taken out
/// while a transaction runs, and put back only once that transaction committed: a failed
/// or rolled-back batch leaves nothing, and the next transaction reads the head from disk.
/// (Not through GRDB's `afterNextTransaction`: a transaction observer makes GRDB prepare
/// DELETE statements again.)
final class ChainHeadCache: Sendable {
    private struct Entry {
        var head: ChainHead
        var dataVersion: Int64
    }

    private let entry = Mutex<Entry?>(nil)

    /// The head for the transaction running on `db` (the writer connection), and the data
    /// version to give `keep`.
    func take(_ db: Database) throws -> (head: ChainHead, dataVersion: Int64) {
        let version = try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? -1
        let cached = entry.withLock { entry in
            defer { entry = nil }
            return entry
        }
        if let cached, cached.dataVersion == version { return (cached.head, version) }
        return (try ChainHead.read(db), version)
    }

    /// Keeps `head`, the head a transaction left that has committed. A newer head kept
    /// meanwhile (by a transaction that ran after it) wins.
    func keep(_ head: ChainHead, dataVersion: Int64) {
        entry.withLock { entry in
            if let newer = entry, newer.head.sequence > head.sequence { return }
            entry = Entry(head: head, dataVersion: dataVersion)
        }
    }
}
