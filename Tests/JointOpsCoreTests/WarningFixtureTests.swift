import Foundation
import JointOpsCore
import Testing

/// Every warning fixture loads (warnings never fail a workflow) with the exact diagnostics
/// its `# expect:` lines state.
@Suite struct WarningFixtureTests {
    static let fixtures = Repository.yamlFiles(in: Repository.fixtures.appendingPathComponent("warnings"))

    @Test func thereIsAFixturePerWarningKind() {
        #expect(Self.fixtures.count >= 3, "fixtures found: \(Self.fixtures.count)")
    }

    @Test("each warning fixture loads with its exact warnings and positions", arguments: fixtures)
    func fixtureWarnsWithExactMessages(_ url: URL) throws {
        let text = try Repository.text(url)
        let expected = text.split(separator: "\n").filter { $0.hasPrefix("# expect: ") }.map {
            "\(url.lastPathComponent):" + $0.dropFirst("# expect: ".count)
        }
        #expect(!expected.isEmpty, "\(url.lastPathComponent) has no '# expect:' line")
        let result = WorkflowLoader.load(source: text, file: url.lastPathComponent)
        #expect(result.workflow != nil)
        #expect(result.diagnostics.map(\.description) == expected)
    }

    @Test func theShippedWorkflowsHaveNoWarnings() throws {
        for url in Repository.yamlFiles(in: Repository.workflows) {
            let result = WorkflowLoader.load(source: try Repository.text(url), file: url.lastPathComponent)
            #expect(result.diagnostics.map(\.description) == [], "\(url.lastPathComponent)")
        }
    }
}
