import Glibc

/// jointopsd holds a file descriptor for every connection, and briefly for each one it
/// refuses (as many at once as `max_connections`, at least 256); running out of them crashed
/// it (inside libdispatch, SIGILL). The unit sets LimitNOFILE=65536; run by hand, the soft
/// limit is often 1024 whatever the hard one: jointopsd raises it to the hard limit, and says
/// at the start when even that is too low for the connection limits.
enum OpenFileLimit {
    /// Descriptors beside the connections: the store and its WAL, the journal, the metrics
    /// listener and its scrapes, the event loops' own.
    static let besidesConnections = 128

    /// Raises the soft limit on open files to the hard one; the limit now.
    @discardableResult
    static func raise() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return Int.max }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)  // RLIM_INFINITY is the largest value: Int.max
    }

    /// The most descriptors the connection limits may take: every connection, as many
    /// refusals at once, and those beside them.
    static func needed(by limits: ConnectionLimits) -> Int {
        limits.total + max(limits.total, 256) + besidesConnections
    }

    /// A warning for the journal when `limit` is below what `limits` may need, else nil.
    static func shortfall(_ limits: ConnectionLimits, limit: Int) -> String? {
        let needed = needed(by: limits)
        guard needed > limit else { return nil }
        return
            "max_connections \(limits.total) may take up to \(needed) file descriptors, more than jointopsd may open (\(limit)): raise LimitNOFILE= (systemctl edit jointopsd) or ulimit -n, or lower max_connections; out of descriptors, connections fail"
    }
}
