import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// What the store did to make room after a commit failed for a full disk: it copied the
/// WAL's pages into the database file and truncated the WAL (`wal_checkpoint(TRUNCATE)`).
///
/// On a small disk the WAL is what fills it: a command writes about 30 KB of WAL, most of
/// it the same hot pages again, and nothing is checkpointed below `checkpointPages`. The
/// database file takes each page once, so emptying the WAL gives back nearly all of it. But
/// the checkpoint must first grow the database file by the pages the WAL added to it (only
/// pages the file has already are written in place): on a disk with no byte free it fails.
/// So the store keeps a reserve (`SpaceReserve`), a file of allocated space it gives up
/// just before that checkpoint and takes back after it.
public struct WALReclaim: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable {
        /// The WAL was copied into the database file and truncated: later commits have its room.
        case emptied
        /// The database file could not grow to take the WAL's new pages, even with the
        /// reserve given up: the disk is really full; space must be freed on it.
        case databaseMustGrow = "database_must_grow"
        /// A reader (or the background checkpoint) held the WAL: tried again at the next
        /// failed commit.
        case busy
        /// The WAL held too little to make room (under `minimumGain` free after it was
        /// emptied, or not tried): the disk is full of the database itself.
        case nothingToReclaim = "nothing_to_reclaim"
        /// Another error (its SQLite message is in `message`).
        case failed
    }

    /// The least free space emptying the WAL must leave to count as having made room:
    /// about ten commands' WAL at the daemon's load.
    static let minimumGain = 256 * 1024

    public var outcome: Outcome
    /// The WAL file's size before and after.
    public var walBytesBefore: Int
    public var walBytesAfter: Int
    /// The bytes the database file had to grow by to take the WAL's pages, and the bytes
    /// free on its file system (for `.databaseMustGrow`; nil when unknown).
    public var growthNeeded: Int?
    /// The bytes free on the database's file system: for `.databaseMustGrow`, what there
    /// was for the database file to grow into, the reserve given up included; otherwise
    /// after the WAL was emptied, the reserve taken back (nil when unknown).
    public var freeBytes: Int?
    /// What happened, in a sentence or two for the log (ends with a full stop).
    public var message: String

    public var succeeded: Bool { outcome == .emptied }

    /// `bytes` in MB with one decimal.
    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }
}

/// Space the store keeps allocated in a file beside the database (`<database>-reserve`,
/// zeros that are never written, only allocated) while it is open, to give up when the disk
/// is full so that a checkpoint can grow the database file and empty the WAL (`WALReclaim`).
/// Closing the store removes it (one left by a crash is reused); deleting it by hand loses
/// nothing: the store takes it again when it opens or when a commit succeeds after a full disk.
enum SpaceReserve {
    /// Gives the file at `path` `bytes` of allocated space unless it has them already;
    /// false when the disk has no room for them (the file is then removed).
    @discardableResult
    static func take(_ path: String, bytes: Int) -> Bool {
        guard bytes > 0 else { return false }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return false }
        var info = stat()
        if fstat(descriptor, &info) == 0, Int(info.st_size) >= bytes, Int(info.st_blocks) * 512 >= bytes {
            close(descriptor)
            return true
        }
        let taken = posix_fallocate(descriptor, 0, off_t(bytes)) == 0
        close(descriptor)
        if !taken { unlink(path) }
        return taken
    }

    /// Removes the file at `path`; returns the bytes it held.
    static func release(_ path: String) -> Int {
        let bytes = DiskSpace.fileBytes(path)
        unlink(path)
        return bytes
    }
}

extension EventStore {
    /// The writer's busy timeout as configured, in milliseconds (restored after a shorter one).
    var busyTimeoutMilliseconds: Int32 {
        Int32(options.busyTimeout.components.seconds * 1000 + options.busyTimeout.components.attoseconds / 1_000_000_000_000_000)
    }

    /// The store's reserve (see `SpaceReserve`).
    var reservePath: String { options.path + "-reserve" }

    /// The bytes the reserve keeps: a quarter of the WAL's working size — about 16 MB, or
    /// on a small disk, where the WAL is kept near a quarter of the room
    /// (`Checkpointer.backgroundFrames(configured:room:)`), a sixteenth of the room (also
    /// the most it takes on a tiny disk, where the WAL is at its least). Emptying the WAL
    /// grows the database file by the new pages in it, a fraction of it (7 % in the
    /// incident that found this, 13 % in `StorageFaultTests`' long notes).
    var reserveBytes: Int {
        let quarter = WALPreallocation.bytes(frames: checkpointer.writerFrames, pageSize: 4096) / 4
        return checkpointer.room.map { min(quarter, $0 / 16) } ?? quarter
    }

    /// Takes the reserve back if it was given up (after the store recovered from a full
    /// disk; the store also takes it when it opens). Call on the writer's thread.
    func takeReserve() { SpaceReserve.take(reservePath, bytes: reserveBytes) }

    /// After a commit failed for a full disk: gives up the reserve, copies the WAL into the
    /// database file and truncates it (`wal_checkpoint(TRUNCATE)`) on the writer connection,
    /// so no commit runs meanwhile, waiting at most 100 ms for readers to leave the WAL; then
    /// takes the reserve back from what that freed. Runs only on that failure, never on the
    /// commit path. The failed batch is not retried: its callers were told it failed.
    ///
    /// While the disk stays full it does not try again (the checkpoint would reread the
    /// WAL for every failed command) until there is room for what the last attempt lacked.
    func reclaimWAL() -> WALReclaim {
        let walPath = options.path + "-wal"
        if let last = lastReclaim.withLock({ $0 }), last.outcome == .databaseMustGrow, let needed = last.growthNeeded,
            (DiskSpace.freeBytes(onFileSystemOf: options.path) ?? 0) + DiskSpace.fileBytes(reservePath) < needed
        {
            return last
        }
        let before = DiskSpace.fileBytes(walPath)
        guard before >= WALReclaim.minimumGain else {
            let free = DiskSpace.freeBytes(onFileSystemOf: options.path)
            return WALReclaim(
                outcome: .nothingToReclaim, walBytesBefore: before, walBytesAfter: before, freeBytes: free,
                message:
                    "The store's WAL holds only \(WALReclaim.megabytes(before)): the disk is full of the database itself. Free space on that file system (df -h) or move the state directory to a larger one; nothing acknowledged is lost."
            )
        }
        checkpointer.waitForRunning()
        let databaseBytes = DiskSpace.fileBytes(options.path)
        var code = SQLITE_ERROR
        var sqliteMessage = ""
        var logicalBytes: Int?
        var free: Int?
        let restore = busyTimeoutMilliseconds
        pool.writeWithoutTransaction { db in
            guard let connection = db.sqliteConnection else { return }
            // The database's size as the WAL has it: what the database file must grow to.
            if let pages = try? Int.fetchOne(db, sql: "PRAGMA page_count"), let size = try? Int.fetchOne(db, sql: "PRAGMA page_size") {
                logicalBytes = pages * size
            }
            _ = SpaceReserve.release(reservePath)
            free = DiskSpace.freeBytes(onFileSystemOf: options.path)
            sqlite3_busy_timeout(connection, 100)
            defer { sqlite3_busy_timeout(connection, restore) }
            code = sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_TRUNCATE, nil, nil)
            if code != SQLITE_OK { sqliteMessage = String(cString: sqlite3_errmsg(connection)) }
            takeReserve()
        }
        let after = DiskSpace.fileBytes(walPath)
        let wal = WALReclaim.megabytes(before)
        let reclaim: WALReclaim
        switch code & 0xFF {
        case SQLITE_OK:
            let freeAfter = DiskSpace.freeBytes(onFileSystemOf: options.path)
            let left = freeAfter.map { "\(WALReclaim.megabytes($0)) free" } ?? "free space unknown"
            if let freeAfter, freeAfter < WALReclaim.minimumGain {
                reclaim = WALReclaim(
                    outcome: .nothingToReclaim, walBytesBefore: before, walBytesAfter: after, freeBytes: freeAfter,
                    message:
                        "The store emptied its WAL (\(wal)) into the database file, but that left only \(left): the disk is full of the database itself. Free space on that file system (df -h) or move the state directory to a larger one; nothing acknowledged is lost."
                )
            } else {
                reclaim = WALReclaim(
                    outcome: .emptied, walBytesBefore: before, walBytesAfter: after, freeBytes: freeAfter,
                    message:
                        "The store emptied its WAL (\(wal)) into the database file to make room (\(left) now): the next commands can be written without freeing anything, but the disk is nearly full — free space on it (df -h)."
                )
            }
        case SQLITE_BUSY, SQLITE_LOCKED:
            reclaim = WALReclaim(
                outcome: .busy, walBytesBefore: before, walBytesAfter: after,
                message:
                    "The store could not empty its WAL (\(wal)) to make room: a reader held it; it tries again at the next command that fails for the full disk."
            )
        case SQLITE_FULL:
            let growth = logicalBytes.map { max(0, $0 - databaseBytes) }
            let needs = growth.map { " by \(WALReclaim.megabytes($0))" } ?? ""
            let has = free.map { ", and the disk had \(WALReclaim.megabytes($0)) free for it, the store's reserve included" } ?? ""
            reclaim = WALReclaim(
                outcome: .databaseMustGrow, walBytesBefore: before, walBytesAfter: after, growthNeeded: growth, freeBytes: free,
                message:
                    "The store could not empty its WAL (\(wal)) to make room: the database file must grow\(needs) to take the WAL's pages\(has). Free space on that file system (df -h); nothing acknowledged is lost."
            )
        default:
            reclaim = WALReclaim(
                outcome: .failed, walBytesBefore: before, walBytesAfter: after,
                message: "The store could not empty its WAL (\(wal)) to make room: \(sqliteMessage) (SQLite error \(code)).")
        }
        lastReclaim.withLock { $0 = reclaim }
        return reclaim
    }
}

extension EventStore {
    /// The error `close` throws when the WAL could not be checkpointed: nothing is lost, the
    /// next open replays the WAL.
    func closeFailure(_ error: any Error, walBytes: Int) -> StoreError {
        let kept = "the WAL (\(WALReclaim.megabytes(walBytes))) is kept and replayed at the next start — nothing is lost"
        let path = options.path
        switch (error as? DatabaseError)?.resultCode {
        case .SQLITE_FULL?:
            return StoreError(
                .diskFull,
                "could not checkpoint the WAL of \(path) on close: the disk is full; \(kept). Free space on that file system (df -h) before the next start."
            )
        case .SQLITE_BUSY?, .SQLITE_LOCKED?:
            return StoreError(
                .locked, "could not checkpoint the WAL of \(path) on close: another process was reading the database; \(kept).")
        default:
            let reason = (error as? DatabaseError)?.message ?? "\(error)"
            return StoreError(.io, "could not checkpoint the WAL of \(path) on close: \(reason); \(kept).")
        }
    }
}

extension EventStore {
    /// A warning to log once after opening, when the file system holding the database had
    /// less room than four times the WAL's working size (with the default `checkpointPages`,
    /// 264 MB: free space, plus what the WAL file and the reserve held already): the WAL is
    /// then kept to a quarter of that room instead of 66 MB (checkpoints come sooner, which
    /// costs some speed), and the disk fills sooner than an operator may think. Nil when
    /// there was room, or it could not be found out. Costs nothing: measured at the open.
    public var spaceWarning: String? {
        guard let room = checkpointer.room, checkpointer.backgroundFrames < checkpointer.configuredFrames else { return nil }
        let folder = StoreError.folder(of: options.path)
        let full = WALPreallocation.bytes(frames: 4 * checkpointer.configuredFrames, pageSize: 4096)
        let kept = WALPreallocation.bytes(frames: checkpointer.writerFrames, pageSize: 4096)
        return
            "the file system holding \(folder) has \(WALReclaim.megabytes(room)) free for the store, less than four times the \(WALReclaim.megabytes(full)) its WAL grows to under load: the WAL is kept near \(WALReclaim.megabytes(kept)) (checkpoints every \(checkpointer.backgroundFrames) pages instead of \(checkpointer.configuredFrames): somewhat slower commits), and \(WALReclaim.megabytes(reserveBytes)) are kept in reserve (\(reservePath)) to empty it when the disk fills; commands fail once the database itself fills the disk. Give that file system at least \(WALReclaim.megabytes(4 * full)) free."
    }
}
