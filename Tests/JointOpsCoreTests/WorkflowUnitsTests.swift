import JointOpsCore
import Testing

/// The workflow language's unit keys: capabilities, unit_status and release.
@Suite struct WorkflowUnitsTests {
    @Test func armedResponseRequiresArmedSWATAndANegotiator() throws {
        let workflow = try Repository.workflow(Repository.workflows.appendingPathComponent("armed-response.yaml"))
        let swat = try #require(workflow.branches.first { $0.name == "swat" })
        #expect(swat.capabilities == ["armed"])
        #expect(swat.release == .returning)
        #expect(swat.steps[try #require(swat.step(named: "en_route"))].unitStatus == .enRoute)
        #expect(swat.steps[try #require(swat.step(named: "on_scene"))].unitStatus == .onScene)
        #expect(swat.steps[swat.initialStep].unitStatus == nil)
        let negotiation = try #require(workflow.branches.first { $0.name == "negotiation" })
        #expect(negotiation.capabilities == ["negotiator"])
        #expect(negotiation.release == .available)
        let negotiating = try #require(workflow.phases.first { $0.name == "negotiating" })
        #expect(negotiating.dispatch.first { workflow.branches[$0.branch].name == "swat" }?.capabilities == ["negotiator"])
    }
}
