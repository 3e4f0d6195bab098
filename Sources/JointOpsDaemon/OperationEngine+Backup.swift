import Foundation
import JointOpsCore
import JointOpsProtocol
import JointOpsStore

extension OperationEngine {
    /// Writes an online backup of the store to `path`: absolute (the daemon's working
    /// directory is not the caller's), a new regular file unless `overwrite`, and never the
    /// live database or its WAL and shared-memory files, whatever the name it is reached by.
    ///
    /// The copy is made away from the engine (`awayFromEngine`): commands and reads go on
    /// meanwhile, and the backup holds the state as of its start.
    public nonisolated func backup(to path: String, overwrite: Bool) async throws(VarlinkError) -> JSONValue {
        guard path.hasPrefix("/") else {
            throw VarlinkError.invalidParameter("path", because: "'\(path)' is relative; give an absolute path")
        }
        let stateFolder = (store.options.path as NSString).deletingLastPathComponent
        if let folder = PrivateTemporaryFolders.containing(path) {
            throw VarlinkError.invalidParameter(
                "path",
                because:
                    "'\(path)' is in jointopsd's private \(folder) (its unit has PrivateTmp=yes): nobody else sees it, and systemd deletes it when jointopsd stops or restarts. Back up to \(stateFolder)/ and copy the file from there"
            )
        }
        // The store's own files, existing or not: the database, its WAL and shared memory,
        // its lock (overwritten, a second jointopsd could open the live store) and reserve.
        let storeFile = (store.options.path as NSString).lastPathComponent
        if (path as NSString).lastPathComponent.hasPrefix(storeFile),
            Self.sameFile((path as NSString).deletingLastPathComponent, stateFolder)
        {
            throw VarlinkError.invalidParameter(
                "path",
                because:
                    "'\(path)' is the live database or one of its files (\(storeFile), its WAL, shared memory, lock and reserve); write the backup to a new file elsewhere"
            )
        }
        var target = stat()
        if lstat(path, &target) == 0 {
            let live = [store.options.path, store.options.path + "-wal", store.options.path + "-shm"]
            if live.contains(where: { Self.sameFile(path, $0) }) {
                throw VarlinkError.invalidParameter(
                    "path", because: "'\(path)' is the live database (or its WAL); write the backup to a new file elsewhere")
            }
            switch target.st_mode & S_IFMT {
            case S_IFDIR:
                throw VarlinkError.invalidParameter(
                    "path", because: "'\(path)' is a directory; give the backup file's name in it, e.g. \(path)/jointops-backup.sqlite")
            case S_IFREG:
                if !overwrite { throw VarlinkError("io.jointops.Admin.BackupExists", ["path": .string(path)]) }
            default:
                throw VarlinkError.invalidParameter(
                    "path", because: "'\(path)' is not a regular file (a device, socket or link); give a new file's path")
            }
        }
        let folder = (path as NSString).deletingLastPathComponent
        if access(folder.isEmpty ? "/" : folder, W_OK) != 0 {
            throw cannotWrite(path, errno == ENOENT ? "there is no folder \(folder)" : "\(String(cString: strerror(errno))) in \(folder)")
        }
        let store = store
        do {
            try await awayFromEngine(.admin) { () throws(StoreError) in try store.backup(to: path) }.get()
        } catch {
            logger.error("backup to \(path) failed: \(error.message)")
            // (Root passes `access`, and some folders only look writable: /proc.)
            if error.kind == .cannotOpen || error.kind == .readOnly {
                throw cannotWrite(path, error.kind.rawValue.replacingOccurrences(of: "_", with: " "))
            }
            throw VarlinkError.adminStorageFailure(error)
        }
        let events = try await awayFromEngine(.admin) { () throws(StoreError) in try store.eventCount() }.mapError(
            VarlinkError.adminStorageFailure
        )
        .get()
        logger.notice("backup written to \(path): \(events) events")
        return .object(["path": .string(path), "events": .int(Int64(events))])
    }

    /// The refusal of a backup path jointopsd cannot create a file at, and where it can.
    private nonisolated func cannotWrite(_ path: String, _ reason: String) -> VarlinkError {
        VarlinkError.invalidParameter(
            "path",
            because:
                "jointopsd cannot write '\(path)' (\(reason)). It writes the backup itself, as its own user; under systemd it may write only in its state directory, so back up to \((store.options.path as NSString).deletingLastPathComponent)/ and copy the file from there"
        )
    }

    /// Whether two paths name the same file (device and inode): a link or another spelling
    /// of the database's path is still the database.
    private static func sameFile(_ a: String, _ b: String) -> Bool {
        var first = stat()
        var second = stat()
        guard stat(a, &first) == 0, stat(b, &second) == 0 else { return false }
        return first.st_dev == second.st_dev && first.st_ino == second.st_ino
    }

    /// Where work away from the engine runs.
    enum AwayLane {
        /// Reads for operators (pages of ended operations, histories, reports): Dispatch's
        /// shared threads, as many at once as there are cores.
        case reads
        /// Whole-store work for administrators (a backup, a walk of the hash chain): one at a
        /// time, on a thread of their own. Sharing the reads' threads, two verifies of a
        /// 3.8 GB store (23 s each) took both and held a Show of a closed operation 16.5 s.
        case admin
    }

    private static let adminQueue = DispatchQueue(label: "jointops.admin")

    /// Runs work that may take seconds — a backup, a walk of the whole hash chain, a page of
    /// years of closed operations, a reload's reading of the files — on a thread of `lane`.
    /// On the engine every command waited for it (a backup of a 230 MB store held them for
    /// half a second, and the watchdog's status call with them); on one of Swift's cooperative
    /// threads (two on this machine class) it would hold up all else scheduled there.
    nonisolated func awayFromEngine<T: Sendable, Failure: Error>(
        _ lane: AwayLane = .reads, _ body: @escaping @Sendable () throws(Failure) -> T
    ) async -> Result<T, Failure> {
        await withCheckedContinuation { continuation in
            (lane == .admin ? Self.adminQueue : DispatchQueue.global(qos: .utility)).async {
                continuation.resume(returning: Result { () throws(Failure) in try body() })
            }
        }
    }
}
