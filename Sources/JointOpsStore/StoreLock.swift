import Foundation
import Synchronization

/// One store per database file: an exclusive `flock` on `<database>.lock`, held for as long
/// as the store is open. Two jointopsd on one state directory would both serve, each with
/// its own idea of the operations, and the second's commits fail (split brain); the lock
/// makes the second refuse to open instead.
///
/// The kernel drops the lock when the holder's descriptor closes — at `close()`, or when the
/// process ends however it ends (kill -9 included), so a lock is never stale. The file keeps
/// the holder's PID, for the message; a file left behind is harmless. The descriptor is not
/// inherited by programs the process starts (`O_CLOEXEC`). A lock is per open file
/// description, so a second store on the same file in the same process is refused too.
final class StoreLock: Sendable {
    let path: String
    /// The lock file's descriptor; -1 once released.
    private let descriptor: Atomic<CInt>

    /// The lock file of the database at `databasePath`.
    static func path(of databasePath: String) -> String { databasePath + ".lock" }

    /// Takes the lock, or says who holds it; does not wait.
    init(database: String) throws(StoreError) {
        path = Self.path(of: database)
        let folder = StoreError.folder(of: database)
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else {
            let code = errno
            if code == EROFS { throw StoreError.readOnlyFileSystem(database) }
            if code == EACCES || code == EPERM, let denied = StoreError.permissionProblem(database) { throw denied }
            throw StoreError(
                [ENOENT, EACCES, EPERM].contains(code) ? .cannotOpen : .io,
                "cannot open the lock file \(path): \(String(cString: strerror(code))); create the state directory \(folder) and give jointopsd's user write access to it"
            )
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            let holder = Self.holder(descriptor)
            close(descriptor)
            guard code == EWOULDBLOCK else {
                throw StoreError(.io, "cannot lock \(path): \(String(cString: strerror(code))); check the file system holding \(folder)")
            }
            if let holder, holder == getpid() {
                throw StoreError(
                    .locked,
                    "this process (PID \(holder)) already has \(database) open; close that store before opening it again")
            }
            throw StoreError(
                .locked,
                "another jointopsd (\(holder.map { "PID \($0)" } ?? "PID unknown")) is using \(folder); stop it first (systemctl stop jointopsd), or give this one its own --state-directory"
            )
        }
        // The PID, for the message another process gets (best effort: the lock is what counts).
        let pid = Array("\(getpid())\n".utf8)
        if ftruncate(descriptor, 0) == 0 { _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) } }
        self.descriptor = Atomic(descriptor)
    }

    /// Lets go of the lock (again: nothing).
    func release() {
        let descriptor = descriptor.exchange(-1, ordering: .acquiringAndReleasing)
        if descriptor >= 0 { close(descriptor) }
    }

    /// The PID written in the lock file, if there is one.
    private static func holder(_ descriptor: CInt) -> pid_t? {
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return pid_t(String(decoding: bytes[..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    deinit { release() }
}
