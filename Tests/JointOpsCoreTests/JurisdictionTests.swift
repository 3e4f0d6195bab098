import Foundation
import JointOpsCore
import Testing

/// The jurisdiction tree: the sample loads, invalid files fail with exact messages, and the
/// tree answers ancestry and subtree questions.
@Suite struct JurisdictionTests {
    static let fixtures = Repository.yamlFiles(in: Repository.fixtures.appendingPathComponent("regions-invalid"))

    static func sample() throws -> JurisdictionTree {
        let url = Repository.root.appendingPathComponent("Regions/tianjin.yaml")
        let result = JurisdictionLoader.load(source: try Repository.text(url), file: "tianjin.yaml")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.description).joined(separator: "\n"))")
        return try #require(result.tree)
    }

    /// Reproducers (a fuzzer of the files): `name: ~` became the name "~", `name: ''` was
    /// taken, and an escape sequence in a name reached the terminal of `jointopsctl regions`.
    @Test func aRegionNameIsOneLineOfTextNotNullOrBlank() throws {
        let source = """
            regions:
              tianjin: {level: city, name: ~}
              hexi: {parent: tianjin, level: district, name: "河西\\e[2J"}
              nankai: {parent: tianjin, level: district, name: "  "}
            """
        let result = JurisdictionLoader.load(source: source, file: "r.yaml")
        #expect(result.tree == nil)
        let messages = result.diagnostics.map(\.description)
        #expect(messages.contains { $0.hasPrefix("r.yaml:2:") && $0.contains("found null (~); give a value") }, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("r.yaml:3:") && $0.contains("control character") }, "\(messages)")
        #expect(messages.contains { $0.hasPrefix("r.yaml:4:") && $0.contains("is empty") }, "\(messages)")
        let roster = UnitRosterLoader.loadYAML(
            source: "units:\n  a-1: {call_sign: ~, branch: swat, home_region: hexi-swat}\n", file: "u.yaml", tree: try Self.sample())
        #expect(roster.diagnostics.map(\.description).contains { $0.hasPrefix("u.yaml:2:") && $0.contains("found null (~)") })
    }

    @Test("each invalid jurisdiction fixture fails with its exact messages and positions", arguments: fixtures)
    func fixtureFailsWithExactMessages(_ url: URL) throws {
        let text = try Repository.text(url)
        let expected = text.split(separator: "\n").filter { $0.hasPrefix("# expect: ") }.map {
            "\(url.lastPathComponent):" + $0.dropFirst("# expect: ".count)
        }
        let result = JurisdictionLoader.load(source: text, file: url.lastPathComponent)
        #expect(
            !expected.isEmpty,
            "\(url.lastPathComponent) has no '# expect:' line; it produces:\n\(result.diagnostics.map(\.description).joined(separator: "\n"))"
        )
        #expect(result.tree == nil)
        #expect(result.diagnostics.map(\.description) == expected)
    }

    @Test func thereIsAFixturePerErrorKind() {
        #expect(Self.fixtures.count >= 10)
    }

    @Test func theSampleContainsEveryRegionTheRepositoryUses() throws {
        let tree = try Self.sample()
        #expect((60...150).contains(tree.count))
        let used = [
            "hexi", "heping", "nankai", "hedong", "hebei", "hongqiao", "dongli", "xiqing", "binhai", "tj-traffic-command",
            "hexi-traffic", "hexi-swat", "district-big-data-center", "hexi-liulin", "hexi-guajiasi", "heping-wudadao",
            "heping-xiaobailou", "heping-haihe", "nankai-aoti", "hebei-tiedong", "hongqiao-xianyang", "dongli-xinli",
            "xiqing-zhangjiawo", "binhai-taida",
        ]
        for id in used { #expect(tree.contains(id), "\(id) is missing from Regions/tianjin.yaml") }
        #expect(tree.root.id == "tianjin")
        #expect(tree.node("hexi")?.level == .district)
        #expect(tree.node("tj-traffic-command")?.level == .command)
        #expect(tree.node("hexi-liulin-g1")?.level == .grid)
        #expect(tree.node("hexi")?.name == Title(zh: "河西分局", en: "Hexi Branch"))
    }

    @Test func ancestryAndSubtreesFollowTheTree() throws {
        let tree = try Self.sample()
        #expect(tree.parent(of: "hexi-liulin") == "hexi")
        #expect(tree.parent(of: "tianjin") == nil)
        #expect(tree.ancestors(of: "hexi-liulin-g1") == ["hexi-liulin", "hexi", "tianjin"])
        #expect(tree.depth(of: "hexi-liulin-g1") == 3)
        #expect(tree.isWithin("hexi-liulin-g1", "hexi"))
        #expect(tree.isWithin("hexi", "hexi"))
        #expect(!tree.isWithin("hexi", "hexi-liulin"))
        #expect(!tree.isWithin("heping-wudadao", "hexi"))
        #expect(!tree.isWithin("nowhere", "tianjin"))
        #expect(tree.subtree(of: "hexi-liulin") == ["hexi-liulin", "hexi-liulin-g1", "hexi-liulin-g2"])
        #expect(tree.subtree(of: "tianjin").count == tree.count)
        #expect(tree.children(of: "hexi").prefix(3) == ["hexi-traffic", "hexi-swat", "hexi-liulin"])
        // The Euler ranges agree with walking up the parents.
        for node in tree.nodes {
            for other in tree.nodes.prefix(20) {
                let byWalk = node.id == other.id || tree.ancestors(of: node.id).contains(other.id)
                #expect(tree.isWithin(node.id, other.id) == byWalk)
            }
        }
    }

    @Test func anUnknownRegionGetsTheClosestIDs() throws {
        let tree = try Self.sample()
        #expect(tree.closest(to: "hexi-liulim").first == "hexi-liulin")
        #expect(tree.closest(to: "liulin").first == "hexi-liulin")
        #expect(tree.unknownRegionMessage("hexl") == "unknown region 'hexl'; did you mean 'hexi'?")
        #expect(tree.closest(to: "zzzzzzzzzzzz").isEmpty)
        // Reproducer: an id typed in capitals got no suggestion at all.
        #expect(tree.unknownRegionMessage("HEXI-LIULIN").hasPrefix("unknown region 'HEXI-LIULIN'; did you mean 'hexi-liulin',"))
        #expect(tree.closest(to: "LIULIN").first == "hexi-liulin")
    }

    /// Reproducer: `--region 河西分局`, a region's own name, got "regions are ids of the
    /// jurisdiction tree, e.g. 'tianjin'" and no pointer to its id.
    @Test func aRegionsNameIsAnsweredWithItsID() throws {
        let tree = try Self.sample()
        let hexi = try #require(tree.nodes.first { $0.id == "hexi" })
        #expect(hexi.name.zh == "河西分局" && hexi.name.en != nil)
        for name in [hexi.name.zh, hexi.name.en?.uppercased()].compactMap({ $0 }) {
            #expect(
                tree.unknownRegionMessage(name)
                    == "unknown region '\(name)': regions are given by id, not by name; did you mean 'hexi' (\(hexi.name))?")
        }
    }

    @Test func buildingFromDefinitionsReportsEveryProblem() {
        let regions = [
            RegionDefinition(id: "a", level: .city, name: Title(en: "A"), parent: nil),
            RegionDefinition(id: "b", level: .district, name: Title(en: "B"), parent: "c"),
            RegionDefinition(id: "c", level: .station, name: Title(en: "C"), parent: "b"),
        ]
        #expect(throws: JurisdictionError.self) { try JurisdictionTree(regions: regions) }
        do {
            _ = try JurisdictionTree(regions: regions)
        } catch {
            #expect(
                error.messages == [
                    "region 'b' is a district but its parent 'c' is a station; a district must be under a city",
                    "regions form a cycle through their parents: b → c → b; one of them needs a parent outside the cycle",
                ])
        }
    }
}
