import JointOpsCore
import JointOpsProtocol
import JointOpsStore

/// `List`, a page at a time: open operations are in memory; ended ones (`includeEnded`) are
/// read from the store a page at a time, away from the engine, so listing years of closed
/// operations neither holds up commands nor builds a reply of hundreds of megabytes.
extension OperationEngine {
    /// Pages of ended operations one `List` reads at most looking for `limit` that match its
    /// filters; past that it answers with what it found and where to go on (`next`).
    static let endedPagesPerList = 10

    /// The operations matching `filter`, newest first (by start, then id), at most `limit`,
    /// beginning after the operation `before` (the `next` of the page before). `next` is
    /// set when more may match: the id to give as `before` for the following page.
    public func list(_ filter: ListFilter, limit: Int, before: String?) async throws(VarlinkError) -> JSONValue {
        let filter = try checked(filter)
        var cursor: OperationListKey?
        if let before {
            if let open = operations[before] {
                cursor = OperationListKey(open)
            } else {
                let stored = try await readAway { store throws(StoreError) in try store.operation(before) }
                guard let stored else {
                    throw VarlinkError.invalidParameter(
                        "before",
                        because: "there is no operation '\(before)'; give the 'next' of the page before, or leave it out for the newest")
                }
                cursor = OperationListKey(stored)
            }
        }
        // The open operations as they are now (a copy that costs nothing until the engine's
        // next change), filtered, sorted and summarised away from the engine: a List of 5,000
        // held every other call for about 170 ms (a concurrency audit).
        let snapshot = operations
        let start = cursor
        guard filter.includeEnded else {
            return await awayFromEngine {
                Self.page(of: Self.openMatching(filter, before: start, in: snapshot), limit: limit, examinedDownTo: nil)
            }
            .get()
        }
        let ended = try await readAway { store throws(StoreError) in
            try Self.endedMatching(filter, before: start, limit: limit, in: store)
        }
        return await awayFromEngine {
            // An operation that ended since the snapshot was taken is in both: as it is now wins.
            let endedIDs = Set(ended.matching.map(\.id))
            let open = Self.openMatching(filter, before: start, in: snapshot).filter { !endedIDs.contains($0.id) }
            return Self.page(of: open + ended.matching, limit: limit, examinedDownTo: ended.examinedDownTo)
        }.get()
    }

    /// The open operations of `snapshot` matching `filter` that come after `cursor`.
    private static func openMatching(
        _ filter: ListFilter, before cursor: OperationListKey?, in snapshot: [String: OperationState]
    ) -> [OperationState] {
        snapshot.values.filter { state in filter.matches(state) && cursor.map { OperationListKey(state) < $0 } ?? true }
    }

    /// Ended operations matching `filter` that started before `cursor`, newest first: pages of
    /// `limit` until `limit` match or `endedPagesPerList` pages were read. `examinedDownTo`
    /// is the oldest operation read when older ones were left unread.
    private static func endedMatching(
        _ filter: ListFilter, before cursor: OperationListKey?, limit: Int, in store: EventStore
    ) throws(StoreError) -> (matching: [OperationState], examinedDownTo: OperationListKey?) {
        var matching: [OperationState] = []
        var from = cursor
        for _ in 0..<endedPagesPerList {
            let page = try store.endedOperations(before: from, limit: limit)
            matching += page.filter(filter.matches)
            guard page.count == limit, let last = page.last else { return (matching, nil) }
            from = OperationListKey(last)
            if matching.count >= limit { break }
        }
        return (matching, from)
    }

    /// The reply: the newest `limit` of `candidates`, and `next` when there are more, or
    /// when operations older than `examinedDownTo` were not read (those candidates are left
    /// for the next page, where they are compared with the ended operations beside them).
    private static func page(of candidates: [OperationState], limit: Int, examinedDownTo: OperationListKey?) -> JSONValue {
        var sorted = candidates.map { (key: OperationListKey($0), state: $0) }.sorted { $0.key > $1.key }
        if let examinedDownTo { sorted.removeAll { $0.key < examinedDownTo } }
        let shown = sorted.prefix(limit)
        var reply: [String: JSONValue] = ["operations": .array(shown.map { Views.summary($0.state) })]
        if sorted.count > limit, let last = shown.last {
            reply["next"] = .string(last.key.id)
        } else if let examinedDownTo {
            reply["next"] = .string(examinedDownTo.id)
        }
        return .object(reply)
    }
}
