import Crypto
import JointOpsCore

/// The hash chain: each event's hash covers the previous hash and the event's canonical
/// bytes, so an edited, deleted, inserted or reordered row breaks every hash after it.
enum EventHash {
    static let genesis = [UInt8](repeating: 0, count: 32)

    /// The canonical bytes of one event row: a JSON object of every column but the hashes.
    static func canonicalBytes(
        sequence: Int64, operationID: String, operationSequence: Int64, at: Int64, actor: Actor?, kind: String, payload: String
    ) -> String {
        let actorJSON: JSONValue = actor.map { .object(["uid": .int(Int64($0.uid)), "name": .string($0.name), "role": .string($0.role)]) } ?? .null
        let head = JSONValue.object([
            "sequence": .int(sequence), "operation": .string(operationID), "operation_sequence": .int(operationSequence), "at": .int(at),
            "actor": actorJSON, "kind": .string(kind),
        ]).canonical
        // The payload is already canonical JSON; splice it in rather than parse it again.
        return String(head.dropLast()) + ",\"payload\":" + payload + "}"
    }

    static func hash(previous: [UInt8], canonical: String) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: Array(canonical.utf8))
        return Array(hasher.finalize())
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// SHA-256 of a workflow's source text, in hex.
    static func contentHash(_ source: String) -> String { hex(SHA256.hash(data: Array(source.utf8))) }
}
