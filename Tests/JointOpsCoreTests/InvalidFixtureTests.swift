import Foundation
import JointOpsCore
import Testing

/// Every invalid fixture states the exact diagnostics it must produce in `# expect:` lines.
@Suite struct InvalidFixtureTests {
    static let fixtures = Repository.yamlFiles(in: Repository.fixtures.appendingPathComponent("invalid"))

    @Test func thereIsAFixturePerErrorKind() {
        #expect(Self.fixtures.count >= 25, "fixtures found: \(Self.fixtures.count)")
    }

    @Test("each invalid fixture fails with its exact messages and positions", arguments: fixtures)
    func fixtureFailsWithExactMessages(_ url: URL) throws {
        let text = try Repository.text(url)
        let expected = text.split(separator: "\n").filter { $0.hasPrefix("# expect: ") }.map {
            "\(url.lastPathComponent):" + $0.dropFirst("# expect: ".count)
        }
        #expect(!expected.isEmpty, "\(url.lastPathComponent) has no '# expect:' line")
        let result = WorkflowLoader.load(source: text, file: url.lastPathComponent)
        #expect(result.workflow == nil)
        #expect(result.diagnostics.map(\.description) == expected)
    }

    @Test func theBaseOfTheFixturesIsValid() throws {
        let result = WorkflowLoader.load(
            source: try Repository.text(Repository.fixtures.appendingPathComponent("valid/minimal.yaml")), file: "minimal.yaml")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(result.workflow != nil)
    }

    @Test func anEmptyFileSaysWhatAWorkflowStartsWith() {
        let result = WorkflowLoader.load(source: "", file: "empty.yaml")
        #expect(
            result.diagnostics.map(\.description) == ["empty.yaml:1:1: error: the file is empty; a workflow starts with 'workflow: ID'"])
    }

    @Test func aListAtTheTopIsRefused() {
        let result = WorkflowLoader.load(source: "- a\n- b\n", file: "list.yaml")
        #expect(result.diagnostics.map(\.description) == ["list.yaml:1:1: error: a workflow file must be a mapping, found a list"])
    }
}
