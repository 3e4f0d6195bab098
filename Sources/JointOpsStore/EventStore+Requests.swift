import GRDB
public import JointOpsCore

extension EventStore {
    /// Forgets at most `limit` replies to client requests made before `before`, in one short
    /// transaction; returns how many it forgot (fewer than `limit`: none older are left).
    /// They are not part of the hash chain: each event stays, only the retry's answer goes.
    public func forgetClientRequests(before: Instant, limit: Int) throws(StoreError) -> Int {
        do {
            return try pool.write { db in
                try db.execute(
                    sql: "DELETE FROM client_request WHERE id IN (SELECT id FROM client_request WHERE at < ? LIMIT ?)",
                    arguments: [before.milliseconds, limit])
                return db.changesCount
            }
        } catch {
            throw StoreError.from(error, path: options.path, doing: "forgetting old client requests")
        }
    }
}
