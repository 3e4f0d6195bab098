import Foundation
import JointOpsStore
import Testing

@testable import JointOpsDaemon

/// A disk filling up is said before commands fail: in systemd's STATUS, once in the journal
/// when it happens and once when there is room again, and as a metric.
@Suite(.serialized) struct DiskNearlyFullTests {
    @Test func nearlyFullIsATwentiethOfTheFileSystemOrAGigabyteFree() {
        func space(free: Int, size: Int) -> StoreDiskSpace { StoreDiskSpace(folder: "/var/lib/jointops", free: free, size: size) }
        #expect(space(free: 1_900_000, size: 40_000_000).isNearlyFull)
        #expect(!space(free: 2_100_000, size: 40_000_000).isNearlyFull)
        #expect(space(free: 999_000_000, size: 100_000_000_000).isNearlyFull)
        #expect(!space(free: 1_100_000_000, size: 100_000_000_000).isNearlyFull)
        #expect(
            space(free: 1_900_000, size: 40_000_000).description
                == "1.9 MB free of 40.0 MB on the file system holding /var/lib/jointops")
    }

    @Test(.enabled(if: getuid() == 0, "SKIPPED: mounting a small tmpfs for the store needs root"))
    func aNearlyFullDiskIsInTheStatusTheJournalAndTheMetrics() async throws {
        let disk = try SmallTmpfs(size: "24m")
        defer { withExtendedLifetime(disk) {} }  // unmounted after the harness has closed its store
        let harness = try EngineHarness(workflows: [try EngineHarness.minimalWorkflow], in: disk.url)
        #expect(!(await harness.engine.status()).contains("DISK"))
        let filler = disk.url.appendingPathComponent("filler").path
        // Leave under a twentieth (1.2 MB) of the 24 MB free.
        let free = try #require(harness.store.diskSpace).free
        try Data(count: max(0, free - 600_000)).write(to: URL(fileURLWithPath: filler))
        let full = await harness.engine.status()
        #expect(full.hasPrefix("DISK NEARLY FULL: "), "\(full)")
        #expect(full.contains("free of 25.2 MB on the file system holding \(harness.folder.path), 0 open operations"), "\(full)")
        _ = await harness.engine.status()
        #expect(harness.log.all.filter { $0.hasPrefix("warning: disk nearly full: ") }.count == 1, "said once: \(harness.log.all)")
        #expect(harness.log.all.contains { $0.contains("commands fail once it is full: free space there (df -h)") })
        let metrics = await harness.engine.metrics.exposition()
        #expect(metrics.contains("jointops_store_free_bytes "), "\(metrics)")
        unlink(filler)
        #expect(!(await harness.engine.status()).contains("DISK"))
        #expect(harness.log.all.contains { $0.hasPrefix("notice: disk has room again: ") }, "\(harness.log.all)")
    }
}

/// A tmpfs of `size` mounted on a fresh folder, unmounted when done.
final class SmallTmpfs {
    let url: URL

    init(size: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("jointops-tmpfs-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        try DaemonHarness.mount(["-t", "tmpfs", "-o", "size=\(size)", "tmpfs", url.path])
    }

    deinit {
        try? DaemonHarness.mount(["-u", "--lazy", url.path])
        try? FileManager.default.removeItem(at: url)
    }
}
