/// One region in a built `JurisdictionTree`.
public struct RegionNode: Sendable, Hashable {
    public let id: String
    public let level: RegionLevel
    public let name: Title
    /// Nil for the root.
    public let parent: String?
    /// 0 for the root.
    public let depth: Int
    /// The node's position in a depth-first walk (its Euler-tour "enter" number): the
    /// nodes of its subtree are exactly those with `order` in `order..<subtreeEnd`.
    public let order: Int
    /// One past the last `order` of the subtree (the "exit" number).
    public let subtreeEnd: Int

    /// The `order` numbers of this node and all its descendants.
    public var subtreeRange: Range<Int> { order..<subtreeEnd }
}
