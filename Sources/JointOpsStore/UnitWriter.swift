import Foundation
import GRDB
public import JointOpsCore

/// Roster changes made outside any operation (added, changed, retired, a status set by an
/// operator): logged in the `@units` stream of the chain, with the units as they stand after.
public struct RosterChange: Sendable {
    public struct Record: Sendable {
        public var at: Instant
        public var actor: Actor?
        public var change: UnitChange

        public init(at: Instant, actor: Actor?, change: UnitChange) {
            self.at = at
            self.actor = actor
            self.change = change
        }
    }

    public var records: [Record]
    public var units: [JointOpsCore.Unit]
    /// A client's request id and the reply it got, for an idempotent retry.
    public var request: EventStore.ClientRequest?

    public init(records: [Record], units: [JointOpsCore.Unit], request: EventStore.ClientRequest? = nil) {
        self.records = records
        self.units = units
        self.request = request
    }
}

/// Writes the `unit` table and the roster stream of the event log.
enum UnitWriter {
    /// Logs the roster change's records; returns the `@units` stream position of the first.
    static func append(_ roster: RosterChange, head: inout ChainHead, _ db: Database, _ statements: WriteStatements) throws -> Int64 {
        guard !roster.records.isEmpty else { return 0 }
        var streamSequence =
            try Int64.fetchOne(db, sql: "SELECT max(operation_sequence) FROM event WHERE operation_id = ?", arguments: [UnitChange.stream])
            ?? 0
        let first = streamSequence + 1
        for record in roster.records {
            streamSequence += 1
            let payload = record.change.payload.canonicalBytes
            let event = EventWriter.Prepared(
                payload: payload,
                canonicalPrefix: EventHash.canonicalPrefix(
                    operationID: UnitChange.stream, operationSequence: streamSequence, at: record.at.milliseconds, actor: record.actor,
                    kind: record.change.kind, payload: payload))
            try EventWriter.insert(
                event, operationID: UnitChange.stream, operationSequence: streamSequence, at: record.at, actor: record.actor,
                kind: record.change.kind, head: &head, db, statements)
        }
        try roster.request?.insert(stream: UnitChange.stream, at: roster.records.last!.at, db)
        return first
    }

    static func write(_ units: [JointOpsCore.Unit], _ db: Database) throws {
        guard !units.isEmpty else { return }
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO unit (id, call_sign, kind, home_region, capabilities, status, status_reason, operation_id, instance, retired)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET call_sign = excluded.call_sign, kind = excluded.kind, home_region = excluded.home_region,
                    capabilities = excluded.capabilities, status = excluded.status, status_reason = excluded.status_reason,
                    operation_id = excluded.operation_id, instance = excluded.instance, retired = excluded.retired
                """)
        for unit in units {
            try statement.execute(arguments: [
                unit.id, unit.callSign, unit.kind.rawValue, unit.homeRegion,
                JSONValue.array(unit.capabilities.sorted().map(JSONValue.string)).canonical, unit.status.rawValue, unit.statusReason,
                unit.assignment?.operation, unit.assignment?.instance, unit.retired ? 1 : 0,
            ])
        }
    }
}

extension EventStore {
    /// Every unit of the roster as stored, in id order.
    public func units() throws(StoreError) -> [JointOpsCore.Unit] {
        do {
            return try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT * FROM unit ORDER BY id").map { row in
                    guard let kind = BranchDefinition.Kind(rawValue: row["kind"]), let status = UnitStatus(rawValue: row["status"]),
                        let capabilities = (try? JSONParser.parse(row["capabilities"] as String))?.arrayValue
                    else { throw ProjectionReader.invalid("unit row \(row) is malformed") }
                    let operation: String? = row["operation_id"]
                    let instance: Int? = row["instance"]
                    return JointOpsCore.Unit(
                        id: row["id"], callSign: row["call_sign"], kind: kind, homeRegion: row["home_region"],
                        capabilities: Set(capabilities.compactMap(\.stringValue)), status: status, statusReason: row["status_reason"],
                        assignment: operation.flatMap { operation in instance.map { UnitAssignment(operation: operation, instance: $0) } },
                        retired: (row["retired"] as Int) == 1)
                }
            }
        } catch {
            throw StoreError.from(error, path: options.path, doing: "reading the unit roster", writing: false)
        }
    }
}
