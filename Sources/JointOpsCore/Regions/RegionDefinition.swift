/// One region as written in a jurisdiction file, before the tree is built.
public struct RegionDefinition: Sendable, Hashable {
    /// `[a-z][a-z0-9_-]*`, unique in the tree; operations and branches name regions by it.
    public var id: String
    public var level: RegionLevel
    public var name: Title
    /// Nil only for the root (the city).
    public var parent: String?

    public init(id: String, level: RegionLevel, name: Title, parent: String?) {
        self.id = id
        self.level = level
        self.name = name
        self.parent = parent
    }
}
