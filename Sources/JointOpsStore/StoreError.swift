import Foundation
import GRDB

/// A storage fault, said plainly: what happened, what it means for the command, and what
/// to do about it. Nothing of a failed commit is on disk.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case diskFull = "disk_full"
        case readOnly = "read_only"
        case locked
        case corrupt
        case cannotOpen = "cannot_open"
        case io
        case conflict
        case invalidData = "invalid_data"
    }

    public var kind: Kind
    public var message: String
    /// For a `.conflict` from `register`: the id of the workflow whose stored version differs,
    /// or whose version is lower than one stored.
    public var workflow: String?
    /// For a `.conflict` from a commit: the operation whose change the database refused.
    public var operation: String?
    /// For a `.diskFull` from a commit: what the store then did to make room (see
    /// `WALReclaim`); its message is also at the end of `message`.
    public var reclaim: WALReclaim?
    public var description: String { message }

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The folder holding `path` (the state directory, for the daemon's database).
    static func folder(of path: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        return folder.isEmpty ? "." : folder
    }

    /// Whether the file system holding `path` (or its folder, if the file does not exist) is
    /// mounted read-only.
    static func isOnReadOnlyFileSystem(_ path: String) -> Bool {
        var info = statvfs()
        guard statvfs(path, &info) == 0 || statvfs(folder(of: path), &info) == 0 else { return false }
        return info.f_flag & UInt(ST_RDONLY) != 0
    }

    /// The store at `path` cannot open for writing: its file system is mounted read-only.
    static func readOnlyFileSystem(_ path: String) -> StoreError {
        StoreError(
            .readOnly,
            "cannot open \(path): the state directory \(folder(of: path)) is on a read-only file system; remount it read-write (docs/storage.md, \"Storage faults\")"
        )
    }

    /// When the store's files are there but this process may not use one of them — a backup
    /// copied into place as root, a `sqlite3` shell run as root that left a `-wal` behind —
    /// says which, whose it is, with what mode, who jointopsd runs as, and the chown that
    /// mends it; nil when the folder and every file of the store that exists may be used.
    static func permissionProblem(_ path: String) -> StoreError? {
        let folder = folder(of: path)
        let candidates =
            [(folder, R_OK | W_OK | X_OK)] + [path, path + "-wal", path + "-shm", StoreLock.path(of: path)].map { ($0, R_OK | W_OK) }
        for (candidate, mode) in candidates {
            var info = stat()
            guard stat(candidate, &info) == 0, faccessat(AT_FDCWD, candidate, mode, AT_EACCESS) != 0 else { continue }
            let code = errno
            guard code == EACCES || code == EPERM else { continue }
            let readable = faccessat(AT_FDCWD, candidate, R_OK, AT_EACCESS) == 0
            let me = name(ofUser: geteuid())
            let owner = "\(name(ofUser: info.st_uid)):\(name(ofGroup: info.st_gid))"
            let mine = "\(me):\(name(ofGroup: getegid()))"
            let (what, chown) =
                candidate == folder
                ? ("its folder \(folder)", "chown -R \(mine) \(folder)")
                : (candidate == path ? "the file" : candidate, "chown \(mine) \(path)*")
            return StoreError(
                readable ? .readOnly : .cannotOpen,
                "cannot open \(path): \(String(cString: strerror(code))) — \(what) belongs to \(owner) with mode \(String(format: "%04o", info.st_mode & 0o7777)), and jointopsd runs as \(me), which may \(readable ? "read but not write" : "not use") it (a backup copied into place as root?). Give the store's files back to jointopsd's user: \(chown), then start jointopsd again (docs/storage.md, \"Restore\")."
            )
        }
        return nil
    }

    /// A user's name, or its number when it has none.
    public static func name(ofUser uid: UInt32) -> String {
        guard let entry = getpwuid(uid) else { return "\(uid)" }
        return String(cString: entry.pointee.pw_name)
    }

    /// A group's name, or its number when it has none.
    public static func name(ofGroup gid: UInt32) -> String {
        guard let entry = getgrgid(gid) else { return "\(gid)" }
        return String(cString: entry.pointee.gr_name)
    }

    /// Less free than this on the file system holding the store is no room: SQLite's `-shm`
    /// alone grows 32 KiB at a time, and a WAL frame is a page and its header.
    static let roomNeeded = 1 << 20

    /// "0.0 MB free of 16.8 MB on the file system holding FOLDER" when the file system holding
    /// the store at `path` has less than `roomNeeded` free; nil when it has room (or cannot be read).
    static func noRoom(for path: String) -> String? {
        let folder = folder(of: path)
        guard let space = DiskSpace.fileSystem(of: folder), space.free < roomNeeded else { return nil }
        return StoreDiskSpace(folder: folder, free: space.free, size: space.size).description
    }

    /// Translates SQLite's result codes into advice for an administrator.
    static func from(_ error: any Error, path: String, doing action: String, writing: Bool = true) -> StoreError {
        if let error = error as? StoreError { return error }
        guard let error = error as? DatabaseError else {
            return StoreError(.io, "\(action) failed for \(path): \(error)")
        }
        let nothingWritten = writing ? "nothing of it was written" : "nothing was changed"
        switch error.resultCode {
        case .SQLITE_FULL:
            return StoreError(
                .diskFull,
                "\(action) failed: the disk holding \(path) is full; \(nothingWritten). Free space on that file system (df -h), then retry; acknowledged events are intact."
            )
        case .SQLITE_READONLY:
            return StoreError(
                .readOnly,
                "\(action) failed: \(path) is read-only (file permissions or a read-only file system); \(nothingWritten). Make it writable for the jointops user, or remount the file system read-write."
            )
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return StoreError(
                .locked,
                "\(action) failed: \(path) is locked by another process; \(nothingWritten). Stop the other process (another jointopsd, or a sqlite3 shell holding a transaction) and retry."
            )
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return StoreError(
                .corrupt,
                "\(action) failed: \(path) is damaged or not a jointops database (\(error.message ?? "corrupt")). Stop jointopsd, keep the file for analysis, and restore the latest backup (docs/storage.md, \"Restore\")."
            )
        case .SQLITE_CANTOPEN:
            var info = stat()
            if stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR {
                return StoreError(
                    .cannotOpen,
                    "cannot open \(path): it is a directory, not a database file; move it out of the way (jointopsd makes the file) or restore the database there (docs/storage.md, \"Restore\")."
                )
            }
            return StoreError(
                .cannotOpen,
                "cannot open \(path): the file or its folder does not exist or is not accessible; create the state directory and give the jointops user access."
            )
        case .SQLITE_CONSTRAINT:
            return StoreError(
                .conflict, "\(action) was refused by the database: \(error.message ?? "constraint failed"); \(nothingWritten).")
        case .SQLITE_IOERR:
            // SQLite says "disk I/O error", not SQLITE_FULL, when it cannot make or extend the
            // `-shm` file (as at an open after a restore, with no `-shm` or `-wal` beside the
            // database) or size a file ahead: on a file system with no room that is the full
            // disk, not a failing one.
            if let space = noRoom(for: path) {
                return StoreError(
                    .diskFull,
                    "\(action) failed: the disk holding \(path) is full (\(space); SQLite could not extend its files: \(error.message ?? "disk I/O error")); \(nothingWritten). Free space on that file system (df -h), then retry; acknowledged events are intact."
                )
            }
            return StoreError(
                .io,
                "\(action) failed: an I/O error on \(path) (\(error.message ?? "disk I/O error")); \(nothingWritten). Check the disk (dmesg) and retry."
            )
        default:
            return StoreError(.io, "\(action) failed on \(path): \(error.message ?? "\(error)"); \(nothingWritten).")
        }
    }
}
