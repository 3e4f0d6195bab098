import Glibc

/// Gives the WAL file, when the store opens, the size it reaches under load, written with
/// zeros and synced — as PostgreSQL zero-fills its WAL segments. A commit's fsync that grows
/// the file must also write the file's new size and allocate its blocks; one that
/// overwrites blocks already on disk writes only the data. Without it, after each start
/// (closing empties the WAL) a lone commit at synchronous=FULL took about 0.32 ms until the
/// WAL had once been restarted, and 0.17 ms after; with it, 0.18 ms from the start
/// (`jointops-bench commit-cost`).
///
/// Safe for SQLite: it reads a WAL's frames only up to the first that fails its checksum
/// or salt, which zeros always do; and the caller holds SQLite's write lock, so no commit
/// of this or another process appends frames meanwhile.
public enum WALPreallocation {
    /// The bytes of a WAL of `frames` pages of `pageSize`: SQLite's 32-byte file header, and
    /// a 24-byte header before each page.
    static func bytes(frames: Int32, pageSize: Int) -> Int { 32 + Int(frames) * (pageSize + 24) }

    /// Extends the file at `path` with zeros up to `bytes` and syncs it, unless it is
    /// missing, already that large, or the file system has less than four times the
    /// missing bytes free (a full or small disk needs its space for the rows). Best effort:
    /// the WAL works without it. Returns the bytes added.
    @discardableResult
    public static func extend(_ path: String, to bytes: Int) -> Int {
        let descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return 0 }
        defer { close(descriptor) }
        var info = stat()
        var space = statvfs()
        guard fstat(descriptor, &info) == 0, fstatvfs(descriptor, &space) == 0 else { return 0 }
        let start = Int(info.st_size)
        let free = Int(space.f_bavail) * Int(space.f_frsize)
        guard start < bytes, free >= 4 * (bytes - start) else { return 0 }
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        var size = start
        while size < bytes {
            let written = zeros.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, min($0.count, bytes - size), off_t(size)) }
            guard written > 0 else { break }
            size += written
        }
        // Unsynced, the zeros would be written by the first commit's fsync instead.
        guard fdatasync(descriptor) == 0 else { return 0 }
        return size - start
    }
}
