import GRDB
import GRDBSQLite

/// Binds and steps a prepared statement through SQLite's C API: the hot write path of the
/// event log and projection, where GRDB's general argument handling showed in profiles.
struct RawStatement {
    private let statement: OpaquePointer
    private let connection: OpaquePointer?
    private var index: Int32 = 0

    /// SQLite copies the bytes before `bind` returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ statement: Statement, _ db: Database) {
        self.statement = statement.sqliteStatement
        connection = db.sqliteConnection
        sqlite3_reset(self.statement)
    }

    mutating func bind(_ value: Int64) {
        index += 1
        sqlite3_bind_int64(statement, index, value)
    }

    mutating func bind(_ value: Int) { bind(Int64(value)) }

    mutating func bind(_ value: Int?) {
        guard let value else { return bindNull() }
        bind(Int64(value))
    }

    mutating func bind(_ value: Int64?) {
        guard let value else { return bindNull() }
        bind(value)
    }

    mutating func bind(_ value: String?) {
        guard var value else { return bindNull() }
        index += 1
        guard !value.isEmpty else {
            // An empty buffer may have no address, and a NULL address binds NULL, not ''.
            _ = sqlite3_bind_text(statement, index, "", 0, Self.transient)
            return
        }
        value.withUTF8 { bytes in
            _ = sqlite3_bind_text(
                statement, index, bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }, Int32(bytes.count),
                Self.transient)
        }
    }

    /// UTF-8 bytes bound as text (no String built for them).
    mutating func bindText(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return bind("" as String?) }
        index += 1
        bytes.withUnsafeBytes { buffer in
            _ = sqlite3_bind_text(
                statement, index, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(buffer.count), Self.transient)
        }
    }

    mutating func bindBlob(_ bytes: [UInt8]) {
        index += 1
        bytes.withUnsafeBytes { buffer in
            _ = sqlite3_bind_blob(statement, index, buffer.baseAddress, Int32(buffer.count), Self.transient)
        }
    }

    mutating func bindNull() {
        index += 1
        sqlite3_bind_null(statement, index)
    }

    /// Runs the statement; a failure becomes a `DatabaseError` with SQLite's code and message.
    func run() throws {
        let code = sqlite3_step(statement)
        guard code == SQLITE_DONE else {
            sqlite3_reset(statement)
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: connection.map { String(cString: sqlite3_errmsg($0)) })
        }
    }
}

/// Steps a prepared statement's rows through SQLite's C API, for scans over many rows
/// (the reports) where building a GRDB `Row` per row would dominate.
struct RawRows {
    /// Keeps the statement alive while its rows are stepped.
    private let owner: Statement
    private let statement: OpaquePointer
    private let connection: OpaquePointer?

    init(_ statement: Statement, _ db: Database) throws {
        owner = statement
        self.statement = statement.sqliteStatement
        connection = db.sqliteConnection
    }

    /// Calls `body` for each row; columns are read with `int`, `isNull` and `text`.
    func forEach(_ body: (RawRows) throws -> Void) throws {
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { break }
            guard code == SQLITE_ROW else {
                sqlite3_reset(statement)
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: connection.map { String(cString: sqlite3_errmsg($0)) })
            }
            try body(self)
        }
        sqlite3_reset(statement)
    }

    func int(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }
    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }
    /// The column's text; short strings (≤ 15 bytes) need no allocation.
    func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(statement, column) else { return "" }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(statement, column))), as: UTF8.self)
    }
    /// The length in bytes of the column's text.
    func textLength(_ column: Int32) -> Int32 { sqlite3_column_bytes(statement, column) }
    func optionalInt(_ column: Int32) -> Int64? { isNull(column) ? nil : int(column) }
    func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }
    /// The column's text as UTF-8 bytes, valid only inside `body` (no copy).
    func withBytes<Result>(_ column: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        guard let bytes = sqlite3_column_text(statement, column) else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        return try body(UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(statement, column))))
    }
}
