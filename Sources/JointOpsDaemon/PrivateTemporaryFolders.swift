import Foundation

/// The temporary folders (`/tmp`, `/var/tmp`) that are jointopsd's own under systemd's
/// `PrivateTmp=yes`: nobody else sees what is written there, and systemd deletes it when the
/// service stops. A backup written there said "backup written" and was gone at the next restart.
enum PrivateTemporaryFolders {
    /// The mount points of this process's private temporary folders, from its mount table.
    /// (Read to its end by `readFile`: Foundation's readers stop after 4 KB of a /proc file,
    /// whose size says 0, and under systemd the table is longer than that.)
    static func current() -> [String] {
        guard let table = try? readFile("/proc/self/mountinfo") else { return [] }
        return privateMounts(in: String(decoding: table, as: UTF8.self))
    }

    /// The mount points in a `/proc/self/mountinfo` text whose source is a folder systemd made
    /// for one service's private /tmp or /var/tmp (`/systemd-private-…-NAME.service-…/tmp`).
    static func privateMounts(in mountinfo: String) -> [String] {
        mountinfo.split(separator: "\n").compactMap { line in
            // "ID PARENT MAJOR:MINOR ROOT MOUNTPOINT …": the root within its file system, then where.
            let fields = line.split(separator: " ", maxSplits: 5)
            guard fields.count >= 5, fields[3].contains("/systemd-private-") else { return nil }
            return String(fields[4])
        }
    }

    /// The private folder `path` is in, if any.
    static func containing(_ path: String, mounts: [String] = current()) -> String? {
        // (A link to /tmp from elsewhere is followed as far as it exists.)
        let standardized = (path as NSString).resolvingSymlinksInPath
        return mounts.first { standardized == $0 || standardized.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
    }
}
