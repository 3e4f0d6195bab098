import Foundation
import GRDB

extension EventStore {
    /// Copies the whole database, consistently, to `path` with SQLite's online backup API,
    /// while writers go on. The copy is written under a hidden name beside `path`
    /// (`.NAME.partial-…`), synced, and only then renamed to `path`: a backup that fails or
    /// is cut short (a full disk, jointopsd killed) leaves nothing at `path` — no half file
    /// that opens as an empty database, nor one a retry is refused for as existing. What
    /// one cut short left is removed by the next backup to the same path.
    public func backup(to path: String) throws(StoreError) {
        let target = URL(fileURLWithPath: path)
        let folder = target.deletingLastPathComponent().path
        let prefix = ".\(target.lastPathComponent).partial-"
        Self.removeLeftovers(in: folder, named: prefix)
        let partial = (folder as NSString).appendingPathComponent(prefix + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        do {
            let copy = try DatabaseQueue(path: partial)
            try pool.backup(to: copy)
            try copy.close()
            try Self.sync(partial)
            guard rename(partial, path) == 0 else {
                throw StoreError(.io, "could not rename the finished backup \(partial) to \(path): \(String(cString: strerror(errno)))")
            }
            try Self.sync(folder)
        } catch {
            unlink(partial)
            unlink(partial + "-journal")
            throw StoreError.from(error, path: path, doing: "backing up \(options.path)")
        }
    }

    /// Removes the files of earlier backups to the same path that were cut short.
    private static func removeLeftovers(in folder: String, named prefix: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in names where name.hasPrefix(prefix) { unlink((folder as NSString).appendingPathComponent(name)) }
    }

    /// `fsync` of a file or a folder (a rename is durable once its folder is synced).
    private static func sync(_ path: String) throws(StoreError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw StoreError(.io, "could not open \(path) to sync it: \(String(cString: strerror(errno)))") }
        defer { Glibc.close(descriptor) }
        guard fsync(descriptor) == 0 else { throw StoreError(.io, "could not sync \(path): \(String(cString: strerror(errno)))") }
    }
}
