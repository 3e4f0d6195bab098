/// How a store is opened.
public struct StoreOptions: Sendable {
    /// How hard SQLite works to make a commit survive a power cut.
    public enum Durability: String, Sendable, CaseIterable {
        /// `synchronous=FULL`: a commit is on disk before it is acknowledged. The default.
        case full
        /// `synchronous=NORMAL`: in WAL mode a commit survives a crash of jointopsd but the
        /// last commits before a power cut or kernel crash may be lost — acknowledged
        /// commands included. Faster; use only where the host has a battery-backed cache.
        case normal
    }

    /// The SQLite database file.
    public var path: String
    public var durability: Durability
    /// How long a commit waits for other commands to share its transaction.
    public var batchMaxWait: Duration
    /// The most commands one transaction takes.
    public var batchMaxSize: Int
    /// How long to wait for a lock another process holds before failing.
    public var busyTimeout: Duration
    /// The WAL size (pages) from which a checkpoint runs in the background; past four times
    /// that the writer finishes it itself (see `Checkpointer`). Larger means fewer copies of
    /// the same pages into the database file, and a larger WAL: 4000 pages is about 16 MB.
    public var checkpointPages: Int32 = 4000
    /// At `synchronous=FULL`, write the WAL out with zeros to its working size when the store
    /// opens (see `WALPreallocation`); about 66 MB.
    public var preallocatesWAL = true
    /// At `synchronous=FULL`, gather the frames a transaction appends to the WAL into one
    /// write (`Sources/CWALWrites`) instead of SQLite's two per page.
    public var coalescesWALWrites = true
    /// Hold the database's lock file (`<path>.lock`, see `StoreLock`) while open: another
    /// store on the same file, in another process or this one, is refused with `locked`.
    /// Off only where one file is opened twice on purpose (tests of two writers).
    public var exclusive = true

    public init(
        path: String, durability: Durability = .full, batchMaxWait: Duration = .milliseconds(1), batchMaxSize: Int = 512,
        busyTimeout: Duration = .seconds(5)
    ) {
        self.path = path
        self.busyTimeout = busyTimeout
        self.durability = durability
        self.batchMaxWait = batchMaxWait
        self.batchMaxSize = batchMaxSize
    }
}
