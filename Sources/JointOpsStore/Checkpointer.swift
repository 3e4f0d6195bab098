import Dispatch
import GRDBSQLite
import Synchronization

/// Moves WAL checkpoints off the writer's thread. SQLite's autocheckpoint runs a checkpoint
/// synchronously inside the commit that crosses 1000 WAL frames — about a sixth of the
/// writer's time in profiles. Instead, the writer connection's WAL hook asks a connection
/// of our own, on a thread of its own, for a PASSIVE checkpoint (which never blocks the
/// writer), once the WAL passes `backgroundFrames`.
///
/// Under continuous writes a background checkpoint never quite catches up (frames arrive
/// while it copies), and SQLite restarts the WAL from its beginning only once every frame
/// is copied back: the file would grow without bound. So once the WAL passes `writerFrames`
/// the writer itself checkpoints, in its hook, what the background left (the frames of the
/// last moments); the next commit then restarts the WAL. A checkpoint failing (a full
/// disk, say) is not the commit's failure: the commit is already durable in the WAL.
///
/// On a small disk the WAL is kept to a quarter of the room it has (see
/// `backgroundFrames(configured:room:)`): a WAL of 16,000 frames (about 66 MB) cannot fit,
/// and without a checkpoint it filled a 12 MB disk in a few hundred commands while the
/// database itself held 850 KB.
final class Checkpointer: Sendable {
    /// The WAL size (frames) from which a background checkpoint is asked for: the configured
    /// `checkpointPages`, or fewer on a small disk.
    let backgroundFrames: Int32
    /// The `checkpointPages` asked for.
    let configuredFrames: Int32
    /// The bytes the WAL had room for when the store opened (see `room(for:)`; nil when they
    /// could not be found out).
    let room: Int?
    /// The WAL size (frames) from which the writer checkpoints the remainder itself.
    var writerFrames: Int32 { 4 * backgroundFrames }

    struct Statistics: Sendable, Hashable {
        var background = 0
        var writer = 0
    }

    private struct State {
        var running = false
        /// The WAL's size when the last background checkpoint began.
        var lastStartFrames: Int32 = 0
        var closed = false
        var statistics = Statistics()
    }

    private let path: String
    private let synchronous: String
    private let state = Mutex(State())
    /// The checkpointing connection, used only on `queue` (and by `close`, through it).
    private let connection = Mutex<OpaquePointer?>(nil)
    private let queue = DispatchQueue(label: "jointops.store.checkpoint", qos: .utility)

    init(path: String, synchronous: String, backgroundFrames: Int32) {
        self.path = path
        self.synchronous = synchronous
        configuredFrames = backgroundFrames
        room = Self.room(for: path)
        self.backgroundFrames = Self.backgroundFrames(configured: backgroundFrames, room: room)
    }

    /// The fewest frames a background checkpoint waits for, however small the disk.
    static let minimumFrames: Int32 = 64

    /// The bytes of one WAL frame at SQLite's default page size (4 KiB), which the store keeps.
    static let frameBytes = 4096 + 24

    /// The background checkpoint's threshold for a WAL with `room` bytes: `configured`, or on
    /// a disk too small for it, a sixteenth of the room (the writer then restarts the WAL at
    /// four times that, so it stays near a quarter of the room), at least `minimumFrames`.
    /// The default 4000 frames is kept from 264 MB of room up: four times the WAL's working
    /// size, the room `WALPreallocation` wants to write it out.
    static func backgroundFrames(configured: Int32, room: Int?) -> Int32 {
        guard let room else { return configured }
        let fitting = room / 16 / frameBytes
        return Int32(clamping: min(Int(configured), max(fitting, Int(minimumFrames))))
    }

    /// The room the WAL of the database at `path` has: free bytes on its file system, plus
    /// the bytes its WAL file and the store's reserve (`EventStore.reservePath`) hold already
    /// (both are reused).
    static func room(for path: String) -> Int? {
        guard let free = DiskSpace.freeBytes(onFileSystemOf: StoreError.folder(of: path)) else { return nil }
        return free + DiskSpace.fileBytes(path + "-wal") + DiskSpace.fileBytes(path + "-reserve")
    }

    var statistics: Statistics { state.withLock { $0.statistics } }

    /// Replaces the autocheckpoint of `writer` (the writer connection) with this one. The
    /// hook holds this object unretained: keep it alive as long as the connection.
    func install(on writer: OpaquePointer) {
        sqlite3_wal_hook(writer, Self.hook, Unmanaged.passUnretained(self).toOpaque())
    }

    private static let hook: @convention(c) (UnsafeMutableRawPointer?, OpaquePointer?, UnsafePointer<CChar>?, Int32) -> Int32 = {
        context, writer, _, frames in
        guard let context, let writer else { return SQLITE_OK }
        Unmanaged<Checkpointer>.fromOpaque(context).takeUnretainedValue().committed(frames: frames, writer: writer)
        return SQLITE_OK
    }

    /// Called by SQLite on the writer's thread after each commit, with the WAL's size.
    private func committed(frames: Int32, writer: OpaquePointer) {
        if frames >= writerFrames {
            // Busy (the background one holds the checkpoint lock) or failing: the next commit
            // tries again.
            if sqlite3_wal_checkpoint_v2(writer, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil) == SQLITE_OK {
                state.withLock { $0.statistics.writer += 1 }
            }
            return
        }
        guard frames >= backgroundFrames else { return }
        let start = state.withLock { state in
            guard !state.running, !state.closed,
                Self.startsBackground(frames: frames, lastStart: state.lastStartFrames, backgroundFrames: backgroundFrames)
            else { return false }
            state.running = true
            state.lastStartFrames = frames
            return true
        }
        if start { queue.async { self.checkpoint() } }
    }

    /// Whether a commit that left the WAL at `frames` starts a background checkpoint, the
    /// last having started at `lastStart` frames: once the WAL passes `backgroundFrames`, and
    /// then each time it has grown by a quarter of that since the last one began (or has
    /// restarted). Started after every commit instead, they kept a checkpoint running beside
    /// the writer — two more fsyncs on the same disk and the WAL's locks contended for every
    /// commit — which took a lone commit at synchronous=FULL from about 0.17 to 0.25 ms
    /// (`jointops-bench commit-cost`).
    static func startsBackground(frames: Int32, lastStart: Int32, backgroundFrames: Int32) -> Bool {
        guard frames >= backgroundFrames else { return false }
        if frames < lastStart { return true }  // the WAL restarted since
        return frames - lastStart >= max(1, backgroundFrames / 4)
    }

    private func checkpoint() {
        let succeeded = connection.withLock { connection in
            if connection == nil { connection = open() }
            guard let connection else { return false }
            return sqlite3_wal_checkpoint_v2(connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil) == SQLITE_OK
        }
        state.withLock { state in
            state.running = false
            if succeeded { state.statistics.background += 1 }
        }
    }

    /// Opens the checkpointing connection, with the writer's `synchronous` setting: a
    /// checkpoint syncs the database file before the WAL may be reused only when it is not OFF.
    private func open() -> OpaquePointer? {
        var db: OpaquePointer?
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nil) == SQLITE_OK,
            sqlite3_exec(db, "PRAGMA synchronous = \(synchronous)", nil, nil, nil) == SQLITE_OK
        else {
            sqlite3_close_v2(db)
            return nil
        }
        sqlite3_busy_timeout(db, 100)
        return db
    }

    /// Waits for a running background checkpoint to finish (it would make a TRUNCATE
    /// checkpoint fail as busy).
    func waitForRunning() { queue.sync {} }

    /// Waits for a running checkpoint and closes the connection; no checkpoint starts after.
    /// Close this before the store's own connections, so the last of those to close finds
    /// no other connection and can checkpoint and remove the WAL.
    func close() {
        state.withLock { $0.closed = true }
        queue.sync {
            connection.withLock { connection in
                sqlite3_close_v2(connection)
                connection = nil
            }
        }
    }

    deinit {
        connection.withLock { connection in
            sqlite3_close_v2(connection)
            connection = nil
        }
    }
}
