import CSystemd
import Foundation

/// Talks to the service manager through libsystemd. Outside systemd every call quietly does
/// nothing (no NOTIFY_SOCKET, no LISTEN_FDS).
public enum Systemd {
    /// Sends a notification such as `READY=1` or `STATUS=…`; false when not under systemd.
    @discardableResult
    public static func notify(_ state: String) -> Bool {
        sd_notify(0, state) > 0
    }

    /// The watchdog interval systemd expects pings within, if the watchdog is on for us.
    public static var watchdogInterval: Duration? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
        return .microseconds(Int64(microseconds))
    }

    /// `CLOCK_MONOTONIC` in microseconds, for `RELOADING=1` + `MONOTONIC_USEC=`.
    public static var monotonicMicroseconds: UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
    }

    /// The socket descriptor systemd passed under `name` (socket activation), if any.
    public static func listeningDescriptor(named name: String) -> CInt? {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        let count = sd_listen_fds_with_names(0, &names)
        guard count > 0, let names else { return nil }
        defer {
            for index in 0..<Int(count) { free(names[index]) }
            free(names)
        }
        for index in 0..<Int(count) where names[index].map({ String(cString: $0) }) == name {
            return SD_LISTEN_FDS_START + CInt(index)
        }
        return nil
    }

    /// Whether jointopsd runs as a systemd service: systemd gives every service an
    /// `INVOCATION_ID`, and a `Type=notify` one its `NOTIFY_SOCKET`. Its unit's sandbox
    /// (jointopsd.service's hardening) then explains what a process run by hand would not meet.
    public static var isService: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["INVOCATION_ID"] != nil || environment["NOTIFY_SOCKET"] != nil
    }

    /// The unit's StateDirectory= folders, as systemd passes them (`STATE_DIRECTORY`, absolute
    /// paths separated by colons); the installed unit's, /var/lib/jointops, if it passes none.
    public static var stateDirectories: [String] {
        let given = ProcessInfo.processInfo.environment["STATE_DIRECTORY"]?.split(separator: ":").map(String.init) ?? []
        return given.isEmpty ? ["/var/lib/jointops"] : given
    }

    /// Whether stderr goes straight to the journal (systemd sets `JOURNAL_STREAM`).
    public static var stderrIsJournal: Bool {
        guard let stream = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] else { return false }
        var info = stat()
        guard fstat(STDERR_FILENO, &info) == 0 else { return false }
        return stream == "\(info.st_dev):\(info.st_ino)"
    }
}
