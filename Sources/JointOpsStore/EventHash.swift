import Crypto
import JointOpsCore

/// The hash chain: each event's hash covers the previous hash and the event's canonical
/// bytes, so an edited, deleted, inserted or reordered row breaks every hash after it.
enum EventHash {
    static let genesis = [UInt8](repeating: 0, count: 32)

    /// The canonical bytes of one event row: a JSON object of every column but the hashes,
    /// keys in sorted order, the payload (already canonical) spliced in as it is stored.
    static func canonicalBytes(
        sequence: Int64, operationID: String, operationSequence: Int64, at: Int64, actor: Actor?, kind: String, payload: [UInt8]
    ) -> [UInt8] {
        var out = canonicalPrefix(
            operationID: operationID, operationSequence: operationSequence, at: at, actor: actor, kind: kind, payload: payload)
        finishCanonical(&out, sequence: sequence)
        return out
    }

    /// The canonical bytes up to the sequence, the one column only the writer knows (it is the
    /// last key in sorted order): a caller can build this before its change reaches the writer.
    static func canonicalPrefix(
        operationID: String, operationSequence: Int64, at: Int64, actor: Actor?, kind: String, payload: [UInt8]
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160 + payload.count)
        out.append(contentsOf: #"{"actor":"#.utf8)
        if let actor {
            out.append(contentsOf: #"{"name":"#.utf8)
            JSONValue.writeString(actor.name, to: &out)
            out.append(contentsOf: #","role":"#.utf8)
            JSONValue.writeString(actor.role, to: &out)
            out.append(contentsOf: #","uid":"#.utf8)
            JSONValue.int(Int64(actor.uid)).write(to: &out)
            out.append(UInt8(ascii: "}"))
        } else {
            out.append(contentsOf: "null".utf8)
        }
        out.append(contentsOf: #","at":"#.utf8)
        JSONValue.int(at).write(to: &out)
        out.append(contentsOf: #","kind":"#.utf8)
        JSONValue.writeString(kind, to: &out)
        out.append(contentsOf: #","operation":"#.utf8)
        JSONValue.writeString(operationID, to: &out)
        out.append(contentsOf: #","operation_sequence":"#.utf8)
        JSONValue.int(operationSequence).write(to: &out)
        out.append(contentsOf: #","payload":"#.utf8)
        out.append(contentsOf: payload)
        out.append(contentsOf: #","sequence":"#.utf8)
        return out
    }

    /// Completes a `canonicalPrefix` with the event's sequence.
    static func finishCanonical(_ prefix: inout [UInt8], sequence: Int64) {
        JSONValue.int(sequence).write(to: &prefix)
        prefix.append(UInt8(ascii: "}"))
    }

    static func hash(previous: [UInt8], canonical: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: canonical)
        return Array(hasher.finalize())
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// SHA-256 of a text (a workflow's source, a call's canonical parameters), in hex.
    static func contentHash(_ source: String) -> String { hex(SHA256.hash(data: Array(source.utf8))) }
}
