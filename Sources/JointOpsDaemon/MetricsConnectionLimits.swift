import NIOCore

/// How many metrics connections are served at once, and for how long each. The listener is
/// unauthenticated and reachable by any local user, so neither may be unbounded: idle
/// connections once took every file descriptor jointopsd had, and the daemon with them.
struct MetricsConnectionLimits: Sendable {
    /// A Prometheus scraper holds one or two; the rest of 32 is slack for a second scraper
    /// or a person with curl. Connections beyond it are told 503 and closed at once.
    static let defaultOpen = 32
    /// Loopback scrapes take milliseconds, and Prometheus' own scrape timeout is 10 s.
    static let defaultLifetime = TimeAmount.seconds(10)

    /// The most connections open at once.
    var open = Self.defaultOpen
    /// Each connection is closed this long after it was accepted, whatever it is doing:
    /// waiting for a request (idle, or sent a byte at a time), or not reading its response.
    var lifetime = Self.defaultLifetime
}
