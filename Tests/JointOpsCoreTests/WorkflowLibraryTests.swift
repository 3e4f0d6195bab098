import Foundation
import JointOpsCore
import Testing

/// The shipped workflows are real, valid and varied.
@Suite struct WorkflowLibraryTests {
    static let files = Repository.yamlFiles(in: Repository.workflows)

    @Test func atLeastSixWorkflowsShip() {
        #expect(Self.files.count >= 6, "workflows: \(Self.files.map(\.lastPathComponent))")
    }

    @Test("every shipped workflow validates with no diagnostics", arguments: files)
    func workflowIsClean(_ url: URL) throws {
        let result = WorkflowLoader.load(source: try Repository.text(url), file: url.lastPathComponent)
        #expect(result.diagnostics.map(\.description) == [])
        #expect(result.workflow?.id == url.deletingPathExtension().lastPathComponent, "a workflow's file is named after its id")
    }

    @Test("every shipped workflow has a scenario", arguments: files)
    func workflowHasScenario(_ url: URL) {
        let id = url.deletingPathExtension().lastPathComponent
        let scenarios = Repository.yamlFiles(in: Repository.workflows.appendingPathComponent("scenarios")).map { $0.lastPathComponent }
        #expect(scenarios.contains { $0 == "\(id).yaml" || $0.hasPrefix("\(id)-") })
    }
}
