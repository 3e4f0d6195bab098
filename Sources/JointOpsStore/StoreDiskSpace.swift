/// The room on the file system holding the store, as an administrator wants it at a glance:
/// a disk that fills up fails commands (`StoreError.Kind.diskFull`), so it is said before.
public struct StoreDiskSpace: Sendable, Equatable, CustomStringConvertible {
    /// The folder holding the database.
    public var folder: String
    /// Bytes jointopsd may still write there.
    public var free: Int
    /// The file system's size in bytes.
    public var size: Int

    public init(folder: String, free: Int, size: Int) {
        self.folder = folder
        self.free = free
        self.size = size
    }

    /// Less than a twentieth of the file system free, or less than 1 GB on a larger one:
    /// days of a busy center's events, time to act before commands fail.
    public var isNearlyFull: Bool { free < min(size / 20, 1_000_000_000) }

    /// "1.8 MB free of 40.0 MB on the file system holding /var/lib/jointops"
    public var description: String {
        "\(WALReclaim.megabytes(free)) free of \(WALReclaim.megabytes(size)) on the file system holding \(folder)"
    }
}

extension EventStore {
    /// The room on the file system holding the database, or nil when it cannot be read.
    public var diskSpace: StoreDiskSpace? {
        let folder = StoreError.folder(of: options.path)
        return DiskSpace.fileSystem(of: folder).map { StoreDiskSpace(folder: folder, free: $0.free, size: $0.size) }
    }
}
