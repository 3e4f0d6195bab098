import Testing

@testable import JointOpsDaemon

/// Under systemd's `PrivateTmp=yes`, /tmp and /var/tmp are the service's own and deleted when
/// it stops: a backup there was said to be written and was gone after the next restart.
@Suite struct PrivateTemporaryFoldersTests {
    /// Lines of a jointopsd's /proc/self/mountinfo under systemd 252 with PrivateTmp=yes.
    static let mountinfo = """
        590 589 8:1 / / ro,relatime shared:1 - ext4 /dev/sda1 rw
        612 590 8:1 /tmp/systemd-private-0c1d2e3f-jointopsd.service-AbCdEf/tmp /tmp rw,nosuid,nodev shared:293 - ext4 /dev/sda1 rw
        613 590 8:1 /var/tmp/systemd-private-0c1d2e3f-jointopsd.service-GhIjKl/tmp /var/tmp rw,nosuid,nodev shared:294 - ext4 /dev/sda1 rw
        614 590 8:1 /var/lib/jointops /var/lib/jointops rw,relatime shared:1 - ext4 /dev/sda1 rw
        615 590 0:25 / /run/jointops rw,nosuid,nodev - tmpfs tmpfs rw
        """

    @Test func thePrivateFoldersAreFoundInTheMountTable() {
        #expect(PrivateTemporaryFolders.privateMounts(in: Self.mountinfo) == ["/tmp", "/var/tmp"])
        #expect(PrivateTemporaryFolders.privateMounts(in: "22 27 0:21 / /proc rw,relatime - proc proc rw\n").isEmpty)
    }

    /// Reproducer: read with Foundation, a mount table longer than 4 KB (under systemd) was
    /// cut there, and /var/tmp, listed after /tmp, was not found.
    @Test func aProcFileIsReadToItsEnd() throws {
        let maps = try readFile("/proc/self/maps")
        #expect(maps.count > 4096, "a test process maps more than 4 KB of lines")
        #expect(maps.last == UInt8(ascii: "\n"))
    }

    @Test func aPathIsInAPrivateFolderOnlyUnderIt() {
        let mounts = ["/tmp", "/var/tmp"]
        #expect(PrivateTemporaryFolders.containing("/tmp/nightly.sqlite", mounts: mounts) == "/tmp")
        #expect(PrivateTemporaryFolders.containing("/var/tmp/a/b.sqlite", mounts: mounts) == "/var/tmp")
        #expect(PrivateTemporaryFolders.containing("/var/lib/jointops/../../../tmp/x.sqlite", mounts: mounts) == "/tmp")
        #expect(PrivateTemporaryFolders.containing("/tmpfiles/x.sqlite", mounts: mounts) == nil)
        #expect(PrivateTemporaryFolders.containing("/var/lib/jointops/b.sqlite", mounts: mounts) == nil)
    }
}
