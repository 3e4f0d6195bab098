import Foundation
import JointOpsCore

/// `jointops-bench selection`: one dispatch (select + assign) and its release among
/// 10,000 units in a random 2,000-node tree (seeded), and selection alone.
enum SelectionBenchmark {
    static func run(nodes: Int, units: Int, dispatches: Int) throws {
        var random = SplitMix64(seed: 42)
        let tree = try randomTree(nodes: nodes, using: &random)
        var roster = UnitRoster(tree: tree)
        let kinds: [BranchDefinition.Kind] = [.criminalInvestigation, .publicOrder, .swat, .population, .traffic, .other]
        let capabilities = ["armed", "negotiator", "k9", "medic", "drone"]
        for index in 0..<units {
            var caps: Set<String> = []
            for capability in capabilities where random.next() % 4 == 0 { caps.insert(capability) }
            _ = try roster.add(
                Unit(
                    id: "u\(index)", callSign: "U\(index)", kind: kinds[Int(random.next() % 6)],
                    homeRegion: tree.nodes[Int(random.next() % UInt64(nodes))].id, capabilities: caps))
        }
        let requests = (0..<1024).map { _ in
            UnitRequest(
                kind: kinds[Int(random.next() % 6)], count: 1 + Int(random.next() % 4),
                capabilities: random.next() % 3 == 0 ? [capabilities[Int(random.next() % 5)]] : [],
                region: tree.nodes[Int(random.next() % UInt64(nodes))].id)
        }
        // Keep about 30% of the units committed, releasing the oldest dispatch as new ones come.
        var open: [UnitAssignment] = []
        var (chosen, short) = (0, 0)
        let clock = ContinuousClock()
        var selectTime = Duration.zero
        let elapsed = try clock.measure {
            for number in 0..<dispatches {
                let request = requests[number % requests.count]
                let start = clock.now
                let selection = try UnitSelector.select(request, in: roster)
                selectTime += clock.now - start
                chosen += selection.chosen.count
                if selection.shortfall > 0 { short += 1 }
                if !selection.unitIDs.isEmpty {
                    let assignment = UnitAssignment(operation: "OP-\(number)", instance: 0)
                    _ = try roster.assign(selection.unitIDs, to: assignment)
                    open.append(assignment)
                }
                if open.count > units * 3 / 10 / 2 { _ = roster.release(assignment: open.removeFirst()) }
            }
        }
        let perDispatch = seconds(elapsed) / Double(dispatches) * 1e6
        let perSelect = seconds(selectTime) / Double(dispatches) * 1e6
        print(
            String(
                format:
                    "selection: %d units, %d-node tree, %d dispatches (select + assign + release): %.1f µs per dispatch, selection alone %.1f µs; target ≤ 50 µs: %@ (%.1f units chosen per dispatch, %d short)",
                units, nodes, dispatches, perDispatch, perSelect, perDispatch <= 50 ? "met" : "NOT met",
                Double(chosen) / Double(dispatches), short))
    }

    /// City → districts → stations → grids, each node attached to a random earlier one.
    static func randomTree(nodes: Int, using random: inout SplitMix64) throws -> JurisdictionTree {
        var regions = [RegionDefinition(id: "r0", level: .city, name: Title(en: "City"), parent: nil)]
        var levels: [RegionLevel] = [.city]
        for index in 1..<nodes {
            var parent = Int(random.next() % UInt64(index))
            while levels[parent] == .grid { parent = Int(random.next() % UInt64(index)) }
            let level: RegionLevel = levels[parent] == .city ? .district : levels[parent] == .district ? .station : .grid
            regions.append(RegionDefinition(id: "r\(index)", level: level, name: Title(en: "R\(index)"), parent: "r\(parent)"))
            levels.append(level)
        }
        return try JurisdictionTree(regions: regions)
    }
}
