import Foundation

/// A file's bytes, from any kind of file (`/dev/null` too, which `Data(contentsOf:)` refuses);
/// the error is the system's reason why not, e.g. "No such file or directory".
func readFile(_ path: String) throws(DaemonError) -> Data {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else { throw DaemonError(String(cString: strerror(errno))) }
    defer { close(descriptor) }
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
    }
}
