import NIOCore

/// Where the optional metrics HTTP listener binds: `HOST:PORT` on a loopback address only
/// (`127.0.0.1:9464`, `[::1]:9464`, `localhost:9464`; port 0 picks a free one). The listener
/// has no authentication and no TLS, so anything else is refused at start.
public struct MetricsListenAddress: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    /// Parses and checks `text`; the error says what is wrong and what to write instead.
    public init(parsing text: String) throws(DaemonError) {
        let advice =
            "write 127.0.0.1:PORT or [::1]:PORT (e.g. 127.0.0.1:9464), and let a Prometheus agent on this machine or a reverse proxy with authentication carry the metrics further"
        var host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw DaemonError("metrics listen address '\(text)' is not HOST:PORT: \(advice)")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                // "9464" alone is a port without its host; "localhost" a host without its port.
                let missing = Int(text) != nil ? "host" : "port"
                throw DaemonError("metrics listen address '\(text)' has no \(missing): \(advice)")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") { throw DaemonError("metrics listen address '\(text)': put an IPv6 address in brackets, [::1]:PORT") }
        }
        guard let port = Int(portText), (0...65_535).contains(port) else {
            throw DaemonError("metrics listen address '\(text)': the port must be a number from 0 to 65535; \(advice)")
        }
        if host == "localhost" { host = "127.0.0.1" }
        let address: SocketAddress
        do {
            address = try SocketAddress(ipAddress: String(host), port: port)
        } catch {
            throw DaemonError("metrics listen address '\(text)': '\(host)' is not an IP address; \(advice)")
        }
        guard Self.isLoopback(address) else {
            throw DaemonError(
                "metrics listen address '\(text)' is not a loopback address: the metrics listener has no authentication and no TLS, so it serves this machine only; \(advice)"
            )
        }
        self.host = String(host)
        self.port = port
    }

    public var description: String { Self.described(host: host, port: port) }

    static func described(host: String, port: Int) -> String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// 127.0.0.0/8 or ::1.
    static func isLoopback(_ address: SocketAddress) -> Bool {
        switch address {
        case .v4(let v4):
            return UInt32(bigEndian: v4.address.sin_addr.s_addr) >> 24 == 127
        case .v6(let v6):
            let bytes = withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            return bytes == Array(repeating: 0, count: 15) + [1]
        case .unixDomainSocket:
            return false
        }
    }
}
