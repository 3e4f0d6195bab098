import Foundation
import GRDB

/// The last event of the chain, read inside the writing transaction (so it can never
/// disagree with the disk).
struct ChainHead {
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
