/// Who issued a command, as the control socket learned it from the kernel.
/// Timer firings and automatic transitions have no actor.
public struct Actor: Sendable, Hashable, Codable {
    public var uid: Int
    public var name: String
    public var role: String

    public init(uid: Int, name: String, role: String) {
        self.uid = uid
        self.name = name
        self.role = role
    }
}
