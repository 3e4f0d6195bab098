import JointOpsCore
import Testing

/// Selection: the dispatch region first, then the nearest ancestors; capabilities;
/// shortfall; agreement with a brute-force ordering.
@Suite struct UnitSelectorTests {
    static func roster() throws -> UnitRoster {
        var roster = UnitRoster(tree: try JurisdictionTests.sample())
        let units: [(String, BranchDefinition.Kind, String, Set<String>)] = [
            ("po-liulin-g1", .publicOrder, "hexi-liulin-g1", []),
            ("po-liulin", .publicOrder, "hexi-liulin", []),
            ("po-guajiasi", .publicOrder, "hexi-guajiasi", []),
            ("po-hexi", .publicOrder, "hexi", []),
            ("po-wudadao", .publicOrder, "heping-wudadao", []),
            ("swat-hexi", .swat, "hexi-swat", ["armed"]),
            ("swat-city-a", .swat, "tj-swat", ["armed", "negotiator"]),
            ("swat-city-b", .swat, "tj-swat", ["armed"]),
        ]
        for (id, kind, home, caps) in units {
            _ = try roster.add(Unit(id: id, callSign: id.uppercased(), kind: kind, homeRegion: home, capabilities: caps))
        }
        return roster
    }

    @Test func theDispatchRegionComesFirstThenTheNearestAncestors() throws {
        let roster = try Self.roster()
        let selection = try UnitSelector.select(UnitRequest(kind: .publicOrder, count: 4, region: "hexi-liulin"), in: roster)
        #expect(selection.unitIDs == ["po-liulin", "po-liulin-g1", "po-hexi", "po-guajiasi"])
        #expect(
            selection.chosen.map(\.reason) == [
                "homed in hexi-liulin, the dispatch region",
                "homed in hexi-liulin-g1, inside dispatch region hexi-liulin",
                "homed in hexi, from ancestor hexi (1 level up): no free public_order unit nearer",
                "homed in hexi-guajiasi, from ancestor hexi (1 level up): no free public_order unit nearer",
            ])
        #expect(selection.shortfall == 0)
    }

    @Test func capabilitiesAreRequiredAndAShortfallIsReported() throws {
        let roster = try Self.roster()
        let selection = try UnitSelector.select(
            UnitRequest(kind: .swat, count: 2, capabilities: ["armed", "negotiator"], region: "hexi-liulin-g2"), in: roster)
        #expect(selection.unitIDs == ["swat-city-a"])
        #expect(
            selection.chosen[0].reason
                == "homed in tj-swat, from ancestor tianjin (3 levels up): no free swat unit with armed, negotiator nearer")
        #expect(selection.shortfall == 1)
        #expect(
            selection.shortfallReason == "1 of 2 swat units with armed, negotiator short: no other free one anywhere in the jurisdiction")
        let none = try UnitSelector.select(UnitRequest(kind: .swat, count: 1, capabilities: ["k9"], region: "hexi"), in: roster)
        #expect(none.unitIDs.isEmpty && none.shortfall == 1)
    }

    @Test func committedUnitsAreNotSelected() throws {
        var roster = try Self.roster()
        _ = try roster.assign(["swat-hexi"], to: UnitAssignment(operation: "OP-1", instance: 0))
        let selection = try UnitSelector.select(UnitRequest(kind: .swat, count: 1, capabilities: ["armed"], region: "hexi"), in: roster)
        #expect(selection.unitIDs == ["swat-city-a"])
    }

    @Test func anUnknownDispatchRegionIsRefusedWithTheClosestIDs() throws {
        let roster = try Self.roster()
        #expect {
            try UnitSelector.select(UnitRequest(kind: .swat, count: 1, region: "hexi-liulim"), in: roster)
        } throws: {
            ($0 as? UnitRefusal)?.message
                == "dispatch region: unknown region 'hexi-liulim'; did you mean 'hexi-liulin', 'hexi-liulin-g1' or 'hexi-liulin-g2'?"
        }
    }

    @Test("selection equals a brute-force ordering of every eligible unit", arguments: 1...20)
    func selectionMatchesBruteForce(seed: UInt64) throws {
        var generator = SplitMix64(seed: seed)
        let tree = RandomJurisdiction.tree(nodes: 200, using: &generator)
        var roster = UnitRoster(tree: tree)
        for unit in RandomJurisdiction.units(300, in: tree, using: &generator) { _ = try roster.add(unit) }
        for _ in 0..<50 {
            let request = RandomJurisdiction.request(in: tree, using: &generator)
            let selection = try UnitSelector.select(request, in: roster)
            let expected = Array(BruteForce.order(request, roster).prefix(request.count))
            #expect(selection.unitIDs == expected, "\(request)")
            if Bool.random(using: &generator), !selection.unitIDs.isEmpty {
                _ = try roster.assign(selection.unitIDs, to: UnitAssignment(operation: "OP", instance: Int(generator.next() % 1_000_000)))
            }
        }
    }
}

/// The selection order computed the slow, obvious way.
enum BruteForce {
    static func order(_ request: UnitRequest, _ roster: UnitRoster) -> [String] {
        let tree = roster.tree
        let rings = [request.region] + tree.ancestors(of: request.region)
        let eligible = roster.units.filter {
            $0.status == .available && !$0.retired && $0.kind == request.kind && request.capabilities.isSubset(of: $0.capabilities)
        }
        return eligible.map { unit in
            let ring = rings.firstIndex { tree.isWithin(unit.homeRegion, $0) }!
            return (ring, tree.depth(of: unit.homeRegion)!, unit.id)
        }.sorted { ($0.0, $0.1, $0.2) < ($1.0, $1.1, $1.2) }.map(\.2)
    }
}

/// Seeded random trees, rosters and requests for property tests.
enum RandomJurisdiction {
    static let capabilities = ["armed", "negotiator", "k9", "medic", "drone"]
    static let kinds: [BranchDefinition.Kind] = [.criminalInvestigation, .publicOrder, .swat, .population, .traffic, .other]

    static func tree(nodes: Int, using generator: inout SplitMix64) -> JurisdictionTree {
        var regions = [RegionDefinition(id: "r0", level: .city, name: Title(en: "City"), parent: nil)]
        var levels: [RegionLevel] = [.city]
        for index in 1..<nodes {
            // Attach to a random earlier node that can still have a deeper child.
            var parent = Int(generator.next() % UInt64(index))
            while levels[parent] == .grid { parent = Int(generator.next() % UInt64(index)) }
            let level: RegionLevel = [.district, .station, .grid, .grid][levels[parent] == .city ? 0 : levels[parent] == .district ? 1 : 2]
            regions.append(RegionDefinition(id: "r\(index)", level: level, name: Title(en: "R\(index)"), parent: "r\(parent)"))
            levels.append(level)
        }
        return try! JurisdictionTree(regions: regions)
    }

    static func units(_ count: Int, in tree: JurisdictionTree, using generator: inout SplitMix64) -> [Unit] {
        (0..<count).map { index in
            var caps: Set<String> = []
            for capability in capabilities where generator.next() % 4 == 0 { caps.insert(capability) }
            return Unit(
                id: "u\(index)", callSign: "U\(index)", kind: kinds[Int(generator.next() % UInt64(kinds.count))],
                homeRegion: tree.nodes[Int(generator.next() % UInt64(tree.count))].id, capabilities: caps)
        }
    }

    static func request(in tree: JurisdictionTree, using generator: inout SplitMix64) -> UnitRequest {
        var caps: Set<String> = []
        if generator.next() % 3 == 0 { caps.insert(capabilities[Int(generator.next() % UInt64(capabilities.count))]) }
        return UnitRequest(
            kind: kinds[Int(generator.next() % UInt64(kinds.count))], count: 1 + Int(generator.next() % 4), capabilities: caps,
            region: tree.nodes[Int(generator.next() % UInt64(tree.count))].id)
    }
}
