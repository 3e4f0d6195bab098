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

    /// Whether the second of two joins is reported as never taken (`shadowed-join.yaml` has
    /// the message): only when the first provably holds whenever it does.
    @Test(arguments: [
        ("any: completed\n        of: [patrol, swat]", "all: completed\n        of: [patrol]", true),
        ("any: ended", "any: stood_down", true),
        ("all: stood_down\n        of: [swat, patrol]", "all: stood_down", true),
        ("all: completed\n        of: [patrol]", "any: completed\n        of: [patrol]", false),
        ("all: completed", "all: ended", false),
        ("all: ended\n        of: [patrol]", "all: completed", false),
        ("any: failed\n        of: [patrol]", "any: failed", false),
    ])
    func aJoinIsNeverTakenOnlyWhenAnEarlierOneAlwaysHoldsFirst(_ earlier: String, _ later: String, _ shadowed: Bool) throws {
        let text = try Repository.text(Repository.fixtures.appendingPathComponent("valid/minimal.yaml"))
        let joins = "      - all: ended\n        to: reviewing\n"
        #expect(text.contains(joins))
        let source = text.replacingOccurrences(
            of: joins, with: "      - \(earlier)\n        to: reviewing\n      - \(later)\n        to: assessing\n")
        let result = WorkflowLoader.load(source: source, file: "joins.yaml")
        #expect(result.workflow != nil, "\(result.diagnostics)")
        #expect(result.diagnostics.contains { $0.message.contains("is never taken") } == shadowed, "\(result.diagnostics)")
    }

    @Test func theShippedWorkflowsHaveNoWarnings() throws {
        for url in Repository.yamlFiles(in: Repository.workflows) {
            let result = WorkflowLoader.load(source: try Repository.text(url), file: url.lastPathComponent)
            #expect(result.diagnostics.map(\.description) == [], "\(url.lastPathComponent)")
        }
    }
}
