import JointOpsCore
import Testing

/// Many dispatches racing for few units: each request selects on the roster as it was
/// when it looked, and commits later, after others may have taken, released or preempted
/// units. Interleavings are seeded, so a failure names its seed.
@Suite struct DispatchRaceTests {
    @Test("1,000 racing dispatches for 100 units never commit a unit twice", arguments: [1, 2, 3, 4, 5] as [UInt64])
    func racingDispatchesNeverCommitAUnitTwice(seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        let tree = RandomJurisdiction.tree(nodes: 60, using: &generator)
        var roster = UnitRoster(tree: tree)
        for unit in RandomJurisdiction.units(100, in: tree, using: &generator) { _ = try roster.add(unit) }

        struct Pending {
            var assignment: UnitAssignment
            var request: UnitRequest
            var chosen: [String]?
        }
        var pending: [Pending] = []
        var holding: [UnitAssignment: Set<String>] = [:]  // the test's own record of who holds what
        var started = 0
        var (committedCount, refusedCount, preempted) = (0, 0, 0)

        while started < 1_000 || !pending.isEmpty {
            let roll = generator.next() % 10
            if started < 1_000, roll < 3 || pending.isEmpty {
                // A new dispatch request arrives.
                pending.append(
                    Pending(
                        assignment: UnitAssignment(operation: "OP-\(started)", instance: 0),
                        request: RandomJurisdiction.request(in: tree, using: &generator), chosen: nil))
                started += 1
            } else if roll < 7, !pending.isEmpty {
                // A pending request takes its next step: look, then (later) commit what it saw.
                let at = Int(generator.next() % UInt64(pending.count))
                if let chosen = pending[at].chosen {
                    do {
                        _ = try roster.assign(chosen, to: pending[at].assignment)
                        holding[pending[at].assignment, default: []].formUnion(chosen)
                        committedCount += 1
                    } catch {
                        #expect(error.code == .committed || error.code == .notAvailable || error.code == .retired, "\(error)")
                        refusedCount += 1
                    }
                    pending.remove(at: at)
                } else {
                    let selection = try UnitSelector.select(pending[at].request, in: roster)
                    if selection.unitIDs.isEmpty { pending.remove(at: at) } else { pending[at].chosen = selection.unitIDs }
                }
            } else if roll < 9, let assignment = sortedKeys(holding).randomElement(using: &generator), let units = holding[assignment] {
                // A branch ends: its units come back, some through returning.
                let release: UnitRelease = generator.next() % 2 == 0 ? .available : .returning
                let changes = roster.release(assignment: assignment, to: release)
                #expect(Set(changes.map(\.unit)) == units)
                holding[assignment] = nil
                for unit in units where release == .returning { _ = try roster.setStatus(unit, to: .available) }
            } else if holding.count >= 2, let from = sortedKeys(holding).randomElement(using: &generator),
                let to = sortedKeys(holding).filter({ $0 != from }).randomElement(using: &generator), let unit = holding[from]?.min()
            {
                // An operator takes a unit for a higher-priority operation.
                let change = try roster.preempt(unit, to: to, reason: "priority")
                #expect(change == .preempted(unit: unit, from: from, to: to, reason: "priority"))
                holding[from]?.remove(unit)
                if holding[from]?.isEmpty == true { holding[from] = nil }
                holding[to, default: []].insert(unit)
                preempted += 1
            }
            // Never twice: no unit in two holdings, and the roster agrees with the record.
            let all = holding.values.flatMap { $0 }
            #expect(all.count == Set(all).count, "seed \(seed): a unit is held twice")
            for (assignment, units) in holding {
                #expect(Set(roster.units(committedTo: assignment).map(\.id)) == units, "seed \(seed)")
            }
            #expect(roster.units.filter { $0.assignment != nil }.count == all.count)
            #expect(roster.indexDiscrepancies() == [], "seed \(seed)")
        }
        /// Dictionary order varies between processes; sort so a seed replays exactly.
        func sortedKeys(_ holding: [UnitAssignment: Set<String>]) -> [UnitAssignment] {
            holding.keys.sorted { ($0.operation, $0.instance) < ($1.operation, $1.instance) }
        }
        #expect(committedCount > 100 && refusedCount > 10 && preempted > 10, "\(committedCount) \(refusedCount) \(preempted)")
    }
}
