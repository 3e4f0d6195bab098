public import JointOpsCore

/// Where an operation stands in `List`'s order: by when it started, then by id (ids of one
/// instant differ). The order never changes for an operation, so a page's last key says
/// exactly where the next page begins, whatever starts or ends meanwhile. Ids compare by
/// their UTF-8 bytes, as SQLite compares them.
public struct OperationListKey: Sendable, Hashable, Comparable {
    public var startedAt: Instant
    public var id: String

    public init(startedAt: Instant, id: String) {
        self.startedAt = startedAt
        self.id = id
    }

    public init(_ state: OperationState) {
        self.init(startedAt: state.startedAt, id: state.id)
    }

    public static func < (a: Self, b: Self) -> Bool {
        a.startedAt != b.startedAt ? a.startedAt < b.startedAt : a.id.utf8.lexicographicallyPrecedes(b.id.utf8)
    }
}
