import Foundation
import GRDB
import JointOpsCore
import Testing

@testable import JointOpsStore

/// WAL checkpoints run off the writer's thread, yet the WAL stays bounded under sustained
/// writes, and a closed store is one clean file.
@Suite struct CheckpointTests {
    static func walBytes(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path + "-wal"))?[.size] as? Int) ?? 0
    }

    /// A background checkpoint starts once the WAL passes its bound, then again only after
    /// the WAL has grown by a quarter of the bound, or after it restarted.
    @Test func backgroundCheckpointsStartOncePerQuarterOfTheBound() {
        func starts(_ frames: Int32, after lastStart: Int32) -> Bool {
            Checkpointer.startsBackground(frames: frames, lastStart: lastStart, backgroundFrames: 4000)
        }
        #expect(!starts(3999, after: 0))
        #expect(starts(4000, after: 0))
        #expect(!starts(4003, after: 4000), "not after every commit")
        #expect(!starts(4999, after: 4000))
        #expect(starts(5000, after: 4000))
        #expect(starts(4100, after: 15_000), "the WAL restarted since the last one")
        #expect(!starts(2000, after: 15_000), "a restarted WAL under its bound needs none")
    }

    /// On a disk with less room than four times the WAL's working size, the WAL is kept to
    /// a quarter of the room: background checkpoints start at a sixteenth of it.
    @Test func aSmallDiskGetsASmallerWAL() {
        func frames(_ room: Int?, configured: Int32 = 4000) -> Int32 {
            Checkpointer.backgroundFrames(configured: configured, room: room)
        }
        let frame = Checkpointer.frameBytes
        #expect(frames(nil) == 4000, "room unknown: as configured")
        #expect(frames(1 << 40) == 4000)
        #expect(frames(4000 * 16 * frame) == 4000, "from four times the 66 MB working size")
        #expect(frames(4000 * 16 * frame - 1) == 3999)
        #expect(frames(12 << 20) == Int32((12 << 20) / 16 / frame))
        #expect(frames(12 << 20, configured: 100) == 100, "never more than configured")
        #expect(frames(0) == Checkpointer.minimumFrames)
        #expect(frames(0, configured: 10) == 10)
    }

    /// With room for the WAL the store has nothing to warn about (a small disk's warning is
    /// tested in `StorageFaultTests`).
    @Test func aStoreWithRoomHasNoSpaceWarning() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("store.sqlite")
        var space = statvfs()
        guard statvfs(folder.url.path, &space) == 0, Int(space.f_bavail) * Int(space.f_frsize) > 300 << 20 else { return }
        let store = try EventStore(options: StoreOptions(path: path))
        #expect(store.spaceWarning == nil)
        #expect(store.checkpointer.backgroundFrames == 4000)
        try store.close()
    }

    /// One transaction: a 3 KB note on each of `changes`' operations (about 60 WAL frames
    /// for 64 operations); `changes` become those notes.
    static func commitNotes(to changes: inout [EventStore.Change], in store: EventStore) throws {
        let note = String(repeating: "situation report ", count: 180)
        for index in changes.indices {
            let before = changes[index].state
            var state = before
            let transition = try state.handle(.note(note), at: state.lastChangeAt + 1000, actor: nil)
            changes[index] = EventStore.Change(state: state, before: before, events: transition.events)
        }
        try store.commit(changes)
    }

    @Test func theWALStaysBoundedUnderSustainedWrites() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("store.sqlite")
        let workflows = try Library.workflows()
        // The bound of a small WAL, so a short run crosses it many times.
        let store = try EventStore.withLibrary(at: path, workflows) { $0.checkpointPages = 1000 }
        var changes = try startOperations(workflows[0].0, count: 64)
        try store.commit(changes)
        var largest = 0
        // About 60 WAL frames a transaction: some 30,000 frames in all, many times the bound.
        for _ in 0..<500 {
            try Self.commitNotes(to: &changes, in: store)
            largest = max(largest, Self.walBytes(path))
        }
        let statistics = store.checkpointer.statistics
        let frame = 4096 + 24
        #expect(statistics.background > 0, "\(statistics)")
        #expect(statistics.writer > 0, "the WAL should have been restarted: \(statistics)")
        // The writer finishes what the background left once the WAL passes writerFrames; a
        // transaction or a busy checkpointer may carry it somewhat past that.
        #expect(largest <= 2 * Int(store.checkpointer.writerFrames) * frame, "the WAL grew to \(largest) bytes: \(statistics)")
        #expect(try store.verifyChain().isIntact)
        try store.close()
        #expect(Self.walBytes(path) == 0, "closing should leave everything in the database file")
        // The database file alone holds every event.
        let copy = folder.path("copy.sqlite")
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        let reopened = try EventStore(options: StoreOptions(path: copy))
        #expect(try reopened.eventCount() == 64 * changes[0].state.sequence)
        #expect(try reopened.verifyChain().isIntact)
        try reopened.close()
    }
}

extension CheckpointTests {
    /// Reproducer (a scale audit): a long read kept the WAL from restarting, it grew past its
    /// working size meanwhile, and the file stayed at its peak (314 MB) until jointopsd stopped.
    @Test func aWALGrownDuringALongReadIsCutBackToItsBound() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("store.sqlite")
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: path, workflows) { $0.checkpointPages = 100 }
        var changes = try startOperations(workflows[0].0, count: 64)
        try store.commit(changes)
        func commitNotes(_ transactions: Int) throws {
            for _ in 0..<transactions { try Self.commitNotes(to: &changes, in: store) }
        }
        let working = try store.walWorkingBytes
        // A reader holding its snapshot (as a backup does) while the writer goes on.
        let reader = try DatabaseQueue(path: path)
        try reader.inDatabase { db in
            try db.execute(sql: "BEGIN")
            _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM event")
            try commitNotes(100)
            try db.execute(sql: "COMMIT")
        }
        try reader.close()
        let grown = Self.walBytes(path)
        #expect(grown > 4 * working, "the WAL should have grown during the read: \(grown) bytes against \(working)")
        try commitNotes(100)
        #expect(Self.walBytes(path) <= 2 * working, "the WAL stayed at \(Self.walBytes(path)) bytes (working size \(working))")
        #expect(try store.verifyChain().isIntact)
        try store.close()
    }
}

/// The WAL is given its working size with zeros when the store opens, so commits overwrite
/// blocks already on disk instead of growing the file.
@Suite struct WALPreallocationTests {
    @Test func aStoreOpenedAtFullDurabilityHasItsWALAtItsWorkingSizeAndWorks() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("store.sqlite")
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: path, workflows)
        let working = try store.walWorkingBytes
        let changes = try startOperations(workflows[0].0, count: 8)
        try store.commit(changes)
        // The zeros are written on the writer's queue, before any commit after the open.
        #expect(CheckpointTests.walBytes(path) >= working)
        try store.close()
        #expect(CheckpointTests.walBytes(path) == 0, "closing still leaves one file")
        let reopened = try EventStore(options: StoreOptions(path: path))
        #expect(try reopened.eventCount() == changes.map(\.events.count).reduce(0, +))
        #expect(try reopened.verifyChain().isIntact)
        try reopened.close()
    }

    /// The zeros go in only while the store holds SQLite's write lock: another connection
    /// writing at that moment (another process, say) is never written over.
    @Test func theZerosWaitForAnotherWritersTransaction() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("store.sqlite")
        let workflows = try Library.workflows()
        let starts = try startOperations(workflows[0].0, count: 2)
        try EventStore.withLibrary(at: path, workflows).close()
        var options = StoreOptions(path: path)
        options.preallocatesWAL = false
        let store = try EventStore(options: options)
        try store.commit([starts[0]])
        #expect(CheckpointTests.walBytes(path) < 1 << 20, "not written out when told not to")
        // Another connection holds the write lock, on a thread of its own, until told to let go.
        let other = try HeldWriteLock(path: path)
        store.preallocateWAL()
        usleep(300_000)
        #expect(CheckpointTests.walBytes(path) < 1 << 20, "no zeros while the other connection holds the write lock")
        other.release()
        try store.commit([starts[1]])  // queued behind the zeros on the writer
        #expect(CheckpointTests.walBytes(path) >= (try store.walWorkingBytes))
        #expect(try store.eventCount() == starts.map(\.events.count).reduce(0, +))
        #expect(try store.verifyChain().isIntact)
        try store.close()
        try other.close()
    }

    @Test func atNormalDurabilityTheWALIsLeftToGrow() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("store.sqlite")
        let store = try EventStore(options: StoreOptions(path: path, durability: .normal))
        #expect(CheckpointTests.walBytes(path) < 1 << 20)
        try store.close()
    }

    @Test func extendingKeepsWhatIsThereAndAddsOnlyZeros() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("file-wal")
        let head = [UInt8](repeating: 0xA5, count: 100)
        try Data(head).write(to: URL(fileURLWithPath: path))
        #expect(WALPreallocation.extend(path, to: 1 << 20) == (1 << 20) - 100)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes.count == 1 << 20)
        #expect(Array(bytes.prefix(100)) == head)
        #expect(bytes.dropFirst(100).allSatisfy { $0 == 0 })
        #expect(WALPreallocation.extend(path, to: 1 << 20) == 0, "already that large")
        #expect(WALPreallocation.extend(path, to: 1 << 19) == 0, "never shrinks")
        #expect(WALPreallocation.extend(folder.path("missing-wal"), to: 1 << 20) == 0)
        #expect(!FileManager.default.fileExists(atPath: folder.path("missing-wal")), "never creates the file")
        // More than a quarter of the free space: left to grow.
        #expect(WALPreallocation.extend(path, to: Int(Int64.max / 8)) == 0)
        #expect(CheckpointTests.walBytes(folder.path("file")) == 1 << 20)
    }
}
