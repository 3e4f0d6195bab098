import GRDB
public import JointOpsCore

extension EventStore {
    /// Forgets at most `limit` replies to client requests made before `before`, in one short
    /// transaction; returns how many it forgot (fewer than `limit`: none older are left).
    /// They are not part of the hash chain: each event stays, only the retry's answer goes.
    /// The oldest are found through the index on `at` (`forgetClientRequestsSQL`), so the
    /// writer is held for the rows forgotten only, not for a scan of all that are kept.
    public func forgetClientRequests(before: Instant, limit: Int) throws(StoreError) -> Int {
        do {
            return try pool.write { db in
                try db.execute(sql: Self.forgetClientRequestsSQL, arguments: [before.milliseconds, limit])
                return db.changesCount
            }
        } catch {
            throw StoreError.from(error, path: options.path, doing: "forgetting old client requests")
        }
    }

    /// The statement `forgetClientRequests` runs (a test checks its plan).
    package static let forgetClientRequestsSQL =
        "DELETE FROM client_request WHERE id IN (SELECT id FROM client_request WHERE at < ? ORDER BY at LIMIT ?)"
}
