public import Glibc

/// A Unix socket's address, for connect(2) and bind(2).
public struct UnixSocketAddress {
    private var address = sockaddr_un()

    /// The longest path a socket address holds, in bytes: `sun_path` less its closing NUL (107).
    public static let maxPathBytes = MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1

    /// Nil when `path` is too long for a socket address (more than `maxPathBytes`).
    public init?(path: String) {
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count <= Self.maxPathBytes else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: bytes)
            buffer[bytes.count] = 0
        }
    }

    /// Runs `body` (connect or bind) with the address and its length.
    public func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        withUnsafePointer(to: address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}
