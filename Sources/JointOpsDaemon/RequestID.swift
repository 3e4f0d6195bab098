import JointOpsCore
import JointOpsProtocol
import JointOpsStore

/// A client's request id with the fingerprint of the call it came with. A retry with the
/// same id gets the first call's reply and applies nothing again — but only if it repeats
/// that call: the same id with other parameters is refused, not answered with the result
/// of a different command.
public struct RequestID: Sendable, Hashable {
    public let id: String
    /// `EventStore.ClientRequest.fingerprint(of:)` the call's parameters but the request id.
    public let fingerprint: String

    public init(id: String, fingerprint: String) {
        self.id = id
        self.fingerprint = fingerprint
    }

    /// The longest request id, in characters (the store's constraint).
    static let maximumLength = 200

    /// The call's `requestId`, if it gives one.
    static func of(_ parameters: Parameters) throws(VarlinkError) -> RequestID? {
        guard let id = try parameters.optionalString("requestId") else { return nil }
        guard id.unicodeScalars.count <= maximumLength else {
            throw VarlinkError.invalidParameter(
                "requestId",
                because:
                    "a request id is at most \(maximumLength) characters (this one has \(id.unicodeScalars.count)); a UUID is a good choice"
            )
        }
        guard !id.containsControlCharacter else {
            throw VarlinkError.invalidParameter(
                "requestId", because: "a request id cannot contain control characters (newlines, tabs, NUL…); a UUID is a good choice")
        }
        var others = parameters.values
        others["requestId"] = nil
        return RequestID(id: id, fingerprint: EventStore.ClientRequest.fingerprint(of: .object(others)))
    }
}
