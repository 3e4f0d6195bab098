import Foundation
import JointOpsCore
import Testing

@testable import JointOpsStore

/// Coalesced WAL writes (Sources/CWALWrites): at synchronous=FULL the writer's frames go to
/// the WAL in a few large writes, and nothing it holds back is ever visible to another
/// connection; at NORMAL nothing is held back.
@Suite struct WALWritesTests {
    /// Every operation gets a note of about 1 KB: some 8 WAL pages a transaction.
    private func noteEach(_ changes: inout [EventStore.Change]) throws {
        let note = String(repeating: "situation report ", count: 60)
        for index in changes.indices {
            let before = changes[index].state
            var state = before
            let transition = try state.handle(.note(note), at: state.lastChangeAt + 1000, actor: nil)
            changes[index] = EventStore.Change(state: state, before: before, events: transition.events)
        }
    }

    @Test func atFullTheWritersFramesAreGatheredAndEveryCommitIsSeenElsewhereAtOnce() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("store.sqlite")
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: path, workflows)
        var changes = try startOperations(workflows[0].0, count: 32)
        try store.commit(changes)
        var events = try store.verifyChain().eventsChecked
        for _ in 0..<40 {
            try noteEach(&changes)
            try store.commit(changes)
            events += changes.count
            // Another connection (a reader of the pool) reads every event just committed.
            let report = try store.verifyChain()
            #expect(report.isIntact && report.eventsChecked == events, "\(report)")
        }
        let counts = try #require(store.walWriteCounts, "the writer does not coalesce its WAL writes")
        #expect(counts.taken > 500, "\(counts)")
        #expect(counts.made * 4 < counts.taken, "\(counts.taken) writes became \(counts.made)")
        try store.close()
        let reopened = try EventStore(options: StoreOptions(path: path))
        #expect(try reopened.verifyChain().eventsChecked == events)
        try reopened.close()
    }

    @Test func atNormalNothingIsHeldBack() throws {
        let folder = try TemporaryFolder()
        let workflows = try Library.workflows()
        let store = try EventStore.withLibrary(at: folder.path("store.sqlite"), workflows) { $0.durability = .normal }
        var changes = try startOperations(workflows[0].0, count: 8)
        try store.commit(changes)
        try noteEach(&changes)
        try store.commit(changes)
        #expect(store.walWriteCounts?.taken ?? 0 == 0)
        #expect(try store.verifyChain().isIntact)
        try store.close()
    }
}
