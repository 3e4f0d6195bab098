import Foundation
import JointOpsCore
import JointOpsStore

enum Micro {
    static func run(_ workflowsFolder: URL) throws {
        let source = try String(contentsOf: workflowsFolder.appendingPathComponent("armed-response.yaml"), encoding: .utf8)
        let workflow = WorkflowLoader.load(source: source, file: "a").workflow!
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("micro-\(getpid()).sqlite").path
        let store = try EventStore(options: StoreOptions(path: path, durability: .normal))
        try store.register(workflow, source: source, at: Instant(milliseconds: 0))
        var changes: [EventStore.Change] = []
        var states: [OperationState] = []
        for i in 0..<6400 {
            let (state, start) = try OperationState.start(workflow, id: "M\(i)", region: "hexi", attributes: ["incident_type": "armed_robbery", "priority": "P1", "weapon_involved": "true"], at: Instant(milliseconds: 1000), actor: nil)
            changes.append(EventStore.Change(state: state, before: nil, events: start.events))
            states.append(state)
        }
        let clock = ContinuousClock()
        var t = clock.now
        for chunk in stride(from: 0, to: changes.count, by: 64) { try store.commit(Array(changes[chunk..<chunk + 64])) }
        print("start commits: \(Double((clock.now - t).components.attoseconds) / 1e12 / 6400) us/change")
        changes.removeAll()
        for i in states.indices {
            let before = states[i]
            let tr = try states[i].handle(.note("hello"), at: Instant(milliseconds: 2000), actor: nil)
            changes.append(EventStore.Change(state: states[i], before: before, events: tr.events))
        }
        t = clock.now
        for chunk in stride(from: 0, to: changes.count, by: 64) { try store.commit(Array(changes[chunk..<chunk + 64])) }
        print("note commits: \(Double((clock.now - t).components.attoseconds) / 1e12 / 6400) us/change")
        changes.removeAll()
        for i in states.indices {
            var before = states[i]
            var tr = try states[i].handle(.fire(event: "assess"), at: Instant(milliseconds: 3000), actor: nil)
            var evs = tr.events
            tr = try states[i].handle(.fire(event: "dispatch"), at: Instant(milliseconds: 4000), actor: nil)
            evs += tr.events
            changes.append(EventStore.Change(state: states[i], before: before, events: evs))
            _ = before
            before = states[i]
        }
        for chunk in stride(from: 0, to: changes.count, by: 64) { try store.commit(Array(changes[chunk..<chunk + 64])) }
        changes.removeAll()
        for i in states.indices {
            let before = states[i]
            let tr = try states[i].handle(.advance(branch: "swat", to: "en_route", outcome: nil), at: Instant(milliseconds: 5000), actor: nil)
            changes.append(EventStore.Change(state: states[i], before: before, events: tr.events))
        }
        t = clock.now
        for chunk in stride(from: 0, to: changes.count, by: 64) { try store.commit(Array(changes[chunk..<chunk + 64])) }
        print("advance commits: \(Double((clock.now - t).components.attoseconds) / 1e12 / 6400) us/change")
        t = clock.now
        var n = 0
        for c in changes { for e in c.events { n += c.state.payload(of: e.event).canonical.count } }
        print("payload only: \(Double((clock.now - t).components.attoseconds) / 1e12 / 6400) us/change \(n)")
        try? FileManager.default.removeItem(atPath: path)
    }
}
