import Glibc

/// Sizes of files and free space, for the store's decisions about a small or full disk.
enum DiskSpace {
    /// The size of the file at `path` in bytes (0 when it does not exist).
    static func fileBytes(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }

    /// The bytes an unprivileged process may still write on the file system holding `path`,
    /// and the file system's size.
    static func fileSystem(of path: String) -> (free: Int, size: Int)? {
        var space = statvfs()
        guard statvfs(path, &space) == 0 else { return nil }
        return (Int(space.f_bavail) * Int(space.f_frsize), Int(space.f_blocks) * Int(space.f_frsize))
    }

    /// The bytes an unprivileged process may still write on the file system holding `path`.
    static func freeBytes(onFileSystemOf path: String) -> Int? { fileSystem(of: path)?.free }
}
