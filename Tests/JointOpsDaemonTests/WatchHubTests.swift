import Foundation
import JointOpsCore
import NIOCore
import Testing

@testable import JointOpsDaemon

/// The hub's shared log, taken directly (no socket): who gets which change, in what order,
/// when a watcher is cut off, and that nothing is kept once every watcher has taken it.
@Suite struct WatchHubTests {
    static let workflow: Workflow = {
        let file = DaemonHarness.root.appendingPathComponent("Workflows/armed-response.yaml")
        let source = try! String(contentsOf: file, encoding: .utf8)
        return WorkflowLoader.load(source: source, file: file.lastPathComponent).workflow!
    }()

    /// A freshly started armed-response operation and its start events.
    static func started(_ id: String, region: String = "hexi") throws -> (OperationState, [RecordedEvent]) {
        let (state, transition) = try OperationState.start(
            workflow, id: id, region: region, attributes: ["incident_type": "armed_robbery", "priority": "P1"],
            at: Instant(milliseconds: 1_795_910_400_000), actor: nil)
        return (state, transition.events)
    }

    static func publish(_ id: String, on hub: WatchHub, region: String = "hexi") throws {
        let (state, events) = try started(id, region: region)
        hub.publish(state: state, before: nil, events: events, firstSequence: 1, view: nil)
    }

    /// The operations whose views a batch carries, in order.
    static func operations(in taken: WatchHub.Taken, _ hub: WatchHub) -> [String] {
        let buffer: ByteBuffer
        switch taken {
        case .changes(let changes, _): buffer = hub.batches.encoded(changes)
        case .encoded(let encoded, _): buffer = encoded
        default: return []
        }
        return String(buffer: buffer).split(separator: "\0").compactMap { reply in
            (try? JSONParser.parse(String(reply)))?["parameters"]?["operation"]?["id"]?.stringValue
        }
    }

    @Test func aFilteredWatcherTakesOnlyWhatItWantsAndTheLogEmptiesOnceEveryoneHasTaken() throws {
        let hub = WatchHub()
        let everything = hub.subscribe(WatchFilter(), buffer: 100, interval: .zero)
        let one = hub.subscribe(WatchFilter(operation: "OP-2"), buffer: 100, interval: .zero)
        for id in ["OP-1", "OP-2", "OP-3"] { try Self.publish(id, on: hub) }
        #expect(hub.retained == 3)
        #expect(Self.operations(in: hub.take(for: one), hub) == ["OP-2"])
        #expect(hub.retained == 3, "the watcher following everything has not taken them yet")
        #expect(Self.operations(in: hub.take(for: everything), hub) == ["OP-1", "OP-2", "OP-3"])
        #expect(hub.retained == 0)
    }

    @Test func asleepWatchersSkipWhatTheyDoNotWantWithoutHoldingTheLog() throws {
        let hub = WatchHub()
        let one = hub.subscribe(WatchFilter(region: "heping"), buffer: 2, interval: .zero)
        let everything = hub.subscribe(WatchFilter(), buffer: 100, interval: .zero)
        guard case .wait = hub.take(for: one) else { Issue.record("nothing was published yet"); return }
        for index in 0..<10 { try Self.publish("OP-\(index)", on: hub) }
        #expect(hub.retained == 10)
        #expect(Self.operations(in: hub.take(for: everything), hub).count == 10)
        #expect(hub.retained == 0, "the asleep watcher skipped them as they came")
        guard case .wait = hub.take(for: one) else { Issue.record("no change was in its region"); return }
        try Self.publish("OP-H", on: hub, region: "heping")
        #expect(Self.operations(in: hub.take(for: one), hub) == ["OP-H"], "not cut off: it skipped ten changes it never wanted")
    }

    /// Reproducer: a watcher of region hexi got nothing when an operation was reassigned to
    /// nankai, so its picture kept the operation in hexi for good.
    @Test func aWatcherHearsTheChangeThatTakesAnOperationOutOfItsFilter() throws {
        let hub = WatchHub()
        let hexi = hub.subscribe(WatchFilter(region: "hexi"), buffer: 100, interval: .zero)
        let (started, events) = try Self.started("OP-MOVE")
        hub.publish(state: started, before: nil, events: events, firstSequence: 1, view: nil)
        #expect(Self.operations(in: hub.take(for: hexi), hub) == ["OP-MOVE"])
        var moved = started
        let transition = try moved.handle(.reassign(region: "nankai", branch: nil), at: started.startedAt + 60_000, actor: nil)
        hub.publish(state: moved, before: started, events: transition.events, firstSequence: 10, view: nil)
        guard case .changes(let changes, _) = hub.take(for: hexi) else { Issue.record("the move out of hexi was not delivered"); return }
        let replies = String(buffer: hub.batches.encoded(changes)).split(separator: "\0").map(String.init)
        #expect(replies.contains { $0.contains(#""region":"nankai""#) }, "it hears the move out of hexi: \(replies)")
        #expect(replies.last?.contains(#""left":"OP-MOVE""#) == true, "and that nothing more follows: \(replies)")
        let later = moved
        _ = try moved.handle(.note("in nankai now"), at: started.startedAt + 120_000, actor: nil)
        hub.publish(state: moved, before: later, events: [], firstSequence: 20, view: nil)
        guard case .wait = hub.take(for: hexi) else { Issue.record("a change outside hexi reached the hexi watcher"); return }
    }

    /// Reproducer (a concurrency audit): A reassigned out of hexi, then a note to A, then a
    /// note to B, all on one beat. The hexi watcher takes [move of A, left A, note of B] —
    /// three entries spanning the log's three sequences — and its encoding was shared as if
    /// it were that run: the watcher following everything got `left` instead of A's note,
    /// or the hexi watcher got A's note and no `left`, depending on who took first.
    @Test func aFilteredWatchersBatchWithALeftIsNeverSharedAsARunOfTheLog() throws {
        for everythingFirst in [false, true] {
            let hub = WatchHub()
            let everything = hub.subscribe(WatchFilter(), buffer: 100, interval: .zero)
            let hexi = hub.subscribe(WatchFilter(region: "hexi"), buffer: 100, interval: .zero)
            let (a, aStart) = try Self.started("OP-A")
            let (b, bStart) = try Self.started("OP-B")
            hub.publish(state: a, before: nil, events: aStart, firstSequence: 1, view: nil)
            hub.publish(state: b, before: nil, events: bStart, firstSequence: 10, view: nil)
            _ = Self.replies(hub.take(for: everything), hub)
            _ = Self.replies(hub.take(for: hexi), hub)
            var moved = a
            let move = try moved.handle(.reassign(region: "nankai", branch: nil), at: a.startedAt + 60_000, actor: nil)
            hub.publish(state: moved, before: a, events: move.events, firstSequence: 20, view: nil)
            var noted = moved
            let note = try noted.handle(.note("after leaving"), at: a.startedAt + 61_000, actor: nil)
            hub.publish(state: noted, before: moved, events: note.events, firstSequence: 21, view: nil)
            var bNoted = b
            let bNote = try bNoted.handle(.note("in hexi"), at: b.startedAt + 62_000, actor: nil)
            hub.publish(state: bNoted, before: b, events: bNote.events, firstSequence: 22, view: nil)
            let order = everythingFirst ? [everything, hexi] : [hexi, everything]
            var got: [Int: [String]] = [:]
            for watcher in order { got[watcher.id] = Self.replies(hub.take(for: watcher), hub) }
            let all = got[everything.id]!
            let inHexi = got[hexi.id]!
            #expect(all.contains { $0.contains("after leaving") }, "everything first: \(everythingFirst): \(all)")
            #expect(!all.contains { $0.contains(#""left""#) }, "everything first: \(everythingFirst): \(all)")
            #expect(inHexi.contains { $0.contains(#""left":"OP-A""#) }, "everything first: \(everythingFirst): \(inHexi)")
            #expect(!inHexi.contains { $0.contains("after leaving") }, "everything first: \(everythingFirst): \(inHexi)")
        }
    }

    /// A batch's replies as a watcher receives them.
    static func replies(_ taken: WatchHub.Taken, _ hub: WatchHub) -> [String] {
        switch taken {
        case .changes(let changes, _): String(buffer: hub.batches.encoded(changes)).split(separator: "\0").map(String.init)
        case .encoded(let encoded, _): String(buffer: encoded).split(separator: "\0").map(String.init)
        default: []
        }
    }

    @Test func aWatchersOwnRepliesComeBeforeLaterChanges() throws {
        let hub = WatchHub()
        let watcher = hub.subscribe(WatchFilter(), buffer: 100, interval: .zero)
        let (state, _) = try Self.started("OP-OWN")
        watcher.send(["operation": Views.operation(state)])
        watcher.send(["current": .bool(true)])
        try Self.publish("OP-NEW", on: hub)
        guard case .changes(let changes, _) = hub.take(for: watcher) else { Issue.record("expected changes"); return }
        let replies = String(buffer: hub.batches.encoded(changes)).split(separator: "\0").map(String.init)
        let startEvents = try Self.started("OP-NEW").1.count
        #expect(replies.count == 2 + startEvents + 1)  // OP-OWN, current, OP-NEW's start events, its view
        #expect(replies[0].contains("\"OP-OWN\"") && replies[1].contains("\"current\":true"))
        #expect(replies.dropFirst(2).allSatisfy { $0.contains("\"OP-NEW\"") })
    }

    @Test func aWatcherMoreThanItsBufferBehindIsCutOffAndNoLongerHoldsTheLog() throws {
        let hub = WatchHub()
        let slow = hub.subscribe(WatchFilter(), buffer: 3, interval: .zero)
        let quick = hub.subscribe(WatchFilter(), buffer: 100, interval: .zero)
        for index in 0..<3 { try Self.publish("OP-\(index)", on: hub) }
        _ = hub.take(for: quick)
        guard case .changes = hub.take(for: slow) else { Issue.record("three changes fit its buffer"); return }
        for index in 3..<7 { try Self.publish("OP-\(index)", on: hub) }
        _ = hub.take(for: quick)
        guard case .tooSlow(let buffered) = hub.take(for: slow) else { Issue.record("four changes do not fit"); return }
        #expect(buffered == 3)
        #expect(hub.retained == 0, "the quick watcher took everything; the cut-off one keeps nothing alive")
    }

    @Test func aWatcherTakesAtMostABatchAtOnceAndTheRestNext() throws {
        let hub = WatchHub()
        let everything = hub.subscribe(WatchFilter(), buffer: 10_000, interval: .zero)
        let hexi = hub.subscribe(WatchFilter(region: "hexi"), buffer: 10_000, interval: .zero)
        let count = 1000  // each about 2.5 KB of replies: more than one batch in all
        for index in 0..<count { try Self.publish("OP-\(index)", on: hub) }
        for watcher in [everything, hexi] {
            var taken: [String] = []
            var batches = 0
            while case .changes(let changes, let more) = hub.take(for: watcher) {
                let encoded = hub.batches.encoded(changes)
                #expect(encoded.readableBytes <= WatchHub.batchBytes)
                taken += Self.operations(in: .encoded(encoded, more: more), hub)
                batches += 1
                if !more { break }
            }
            #expect(batches > 1, "more than a batch was waiting")
            #expect(taken == (0..<count).map { "OP-\($0)" }, "every change, in order, none twice")
        }
    }

    @Test func watchersFollowingEverythingShareOneEncodingOfTheSameRun() throws {
        let hub = WatchHub()
        let first = hub.subscribe(WatchFilter(), buffer: 100, interval: .zero)
        let second = hub.subscribe(WatchFilter(), buffer: 100, interval: .zero)
        for index in 0..<5 { try Self.publish("OP-\(index)", on: hub) }
        guard case .changes(let changes, _) = hub.take(for: first) else { Issue.record("expected changes"); return }
        let encoded = hub.batches.encoded(changes)
        try Self.publish("OP-LATER", on: hub)
        guard case .encoded(let shared, _) = hub.take(for: second) else { Issue.record("expected the shared encoding"); return }
        #expect(shared == encoded, "the second takes the first's run, though a change came after it")
        #expect(Self.operations(in: hub.take(for: second), hub) == ["OP-LATER"], "which it takes next")
    }

    @Test func finishingEndsAWatchAfterWhatIsQueued() throws {
        let hub = WatchHub()
        let watcher = hub.subscribe(WatchFilter(), buffer: 100, interval: .zero)
        try Self.publish("OP-LAST", on: hub)
        hub.finishAll()
        #expect(Self.operations(in: hub.take(for: watcher), hub) == ["OP-LAST"])
        guard case .stopped = hub.take(for: watcher) else { Issue.record("expected the end, the daemon stopping"); return }
    }
}
