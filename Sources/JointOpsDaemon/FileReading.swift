import Foundation

/// The most a configuration, jurisdiction, roster or workflow file may hold.
let largestReadFile = 16 << 20

/// A file's bytes, from a regular file or a character device (`/dev/null` too, which
/// `Data(contentsOf:)` refuses); the error is the system's reason why not, e.g. "No such
/// file or directory", or why this is no file to read. A FIFO (named pipe) or socket is
/// refused rather than waited on: one named `*.yaml` in the workflows folder used to hold a
/// reload, and the engine with it, until something wrote to it. At most `largestReadFile`
/// bytes are read (`/dev/zero` would never end).
func readFile(_ path: String) throws(DaemonError) -> Data {
    // Non-blocking, so that opening a FIFO does not wait for a writer; a regular file reads the same.
    let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    guard descriptor >= 0 else { throw DaemonError(String(cString: strerror(errno))) }
    defer { close(descriptor) }
    var status = stat()
    guard fstat(descriptor, &status) == 0 else { throw DaemonError(String(cString: strerror(errno))) }
    switch status.st_mode & S_IFMT {
    case S_IFREG, S_IFCHR: break
    case S_IFDIR: throw DaemonError("it is a directory, not a file")
    case S_IFIFO: throw DaemonError("it is a FIFO (named pipe), not a file; remove it or give a regular file")
    default: throw DaemonError("it is not a regular file")
    }
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = read(descriptor, &buffer, buffer.count)
        if count == 0 { return data }
        if count < 0 {
            if errno == EINTR { continue }
            throw DaemonError(String(cString: strerror(errno)))
        }
        data.append(contentsOf: buffer[..<count])
        guard data.count <= largestReadFile else { throw DaemonError("it is larger than \(largestReadFile >> 20) MB") }
    }
}
