import JointOpsCore
import Testing

/// A branch listed twice in one phase's `dispatch`. After an entry with no `when` the
/// validator refuses it (Fixtures/invalid/dispatch-twice.yaml); after a guarded entry it is
/// the fallback; and the remedy the error gives, two branches sharing their steps through a
/// YAML anchor, loads.
@Suite struct DispatchEntryTests {
    let officer = Actor(uid: 1001, name: "zhang", role: "operate")

    /// The fixture workflow with `old` replaced by `new` (which must be there).
    static func minimal(replacing old: String, with new: String) throws -> String {
        let text = try Repository.text(Repository.fixtures.appendingPathComponent("valid/minimal.yaml"))
        #expect(text.contains(old))
        return text.replacingOccurrences(of: old, with: new)
    }

    @Test func aBranchListedAgainAfterAGuardedEntryIsItsFallback() throws {
        let source = try Self.minimal(
            replacing: "      - branch: swat\n        when: weapon_involved\n",
            with: "      - branch: swat\n        when: weapon_involved\n        units: 3\n      - branch: swat\n")
        let result = WorkflowLoader.load(source: source, file: "fallback.yaml")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let workflow = try #require(result.workflow)
        for (weapon, units) in [(true, 3), (false, 1)] {
            var state = try OperationState.start(
                workflow, id: "OP-1", region: "hexi", attributes: ["priority": "P1", "weapon_involved": String(weapon)], at: .t0,
                actor: officer
            ).0
            _ = try state.handle(.fire(event: "assess"), at: .minutes(1), actor: officer)
            _ = try state.handle(.fire(event: "dispatch"), at: .minutes(2), actor: officer)
            #expect(state.branches.filter { $0.name.hasPrefix("swat") }.map(\.units) == [units], "weapon involved: \(weapon)")
        }
    }

    @Test func twoBranchesMayShareTheirStepsThroughAYAMLAnchor() throws {
        let source = try Self.minimal(
            replacing: "      - branch: patrol\n", with: "      - branch: patrol\n      - branch: patrol_hedong\n        region: hedong\n"
        )
        .replacingOccurrences(of: "    units: 2\n    steps:\n", with: "    units: 2\n    steps: &patrol_steps\n")
        .replacingOccurrences(
            of: "  swat:\n    kind: swat\n",
            with: "  patrol_hedong:\n    kind: public_order\n    steps: *patrol_steps\n  swat:\n    kind: swat\n")
        let result = WorkflowLoader.load(source: source, file: "anchor.yaml")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let workflow = try #require(result.workflow)
        let names = workflow.branches.map { branch in branch.steps.map(\.name) }
        #expect(workflow.branches.map(\.name) == ["patrol", "patrol_hedong", "swat"])
        #expect(names[0] == names[1])
    }
}
