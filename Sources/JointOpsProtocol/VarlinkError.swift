public import JointOpsCore

/// A Varlink error: a fully qualified name and its parameters.
public struct VarlinkError: Error, Sendable, Hashable, CustomStringConvertible {
    public var name: String
    public var parameters: [String: JSONValue]

    public init(_ name: String, _ parameters: [String: JSONValue] = [:]) {
        self.name = name
        self.parameters = parameters
    }

    public var description: String { "\(name) \(JSONValue.object(parameters).canonical)" }

    public static func interfaceNotFound(_ interface: String) -> VarlinkError {
        VarlinkError("org.varlink.service.InterfaceNotFound", ["interface": .string(interface)])
    }

    public static func methodNotFound(_ method: String) -> VarlinkError {
        VarlinkError("org.varlink.service.MethodNotFound", ["method": .string(method)])
    }

    /// Names the parameter; jointops adds a `description` of what was wrong and how to fix it.
    public static func invalidParameter(_ parameter: String, because reason: String? = nil) -> VarlinkError {
        var parameters: [String: JSONValue] = ["parameter": .string(parameter)]
        if let reason { parameters["description"] = .string(reason) }
        return VarlinkError("org.varlink.service.InvalidParameter", parameters)
    }

    public static let expectedMore = VarlinkError("org.varlink.service.ExpectedMore")
}
