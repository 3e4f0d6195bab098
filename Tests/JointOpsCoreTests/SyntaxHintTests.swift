import JointOpsCore
import Testing

/// YAML mistakes said in an author's words (the common ones have fixtures in
/// Fixtures/invalid/yaml-*.yaml; these are the variants).
@Suite struct SyntaxHintTests {
    /// The fixture workflow with `old` replaced by `new` (which must be there), loaded.
    static func diagnostics(replacing old: String, with new: String) throws -> [String] {
        let text = try Repository.text(Repository.fixtures.appendingPathComponent("valid/minimal.yaml"))
        #expect(text.contains(old))
        return WorkflowLoader.load(source: text.replacingOccurrences(of: old, with: new), file: "w.yaml").diagnostics.map(\.description)
    }

    @Test func aFileNestedTooDeepSaysHowDeepItMayGo() {
        let source = "workflow: deep\nx: " + String(repeating: "[", count: 1100) + String(repeating: "]", count: 1100) + "\n"
        let result = WorkflowLoader.load(source: source, file: "deep.yaml")
        #expect(
            result.diagnostics.map(\.description) == [
                "deep.yaml:2:5: error: YAML syntax error: lists and mappings nested deeper than 1000 levels; a workflow, a jurisdiction or a roster needs only a few"
            ])
    }

    @Test func aValueWithAColonInAFlowMappingIsShownQuoted() throws {
        #expect(
            try Self.diagnostics(replacing: "en: Street robbery response}", with: "en: Note: \"armed\" robbery}") == [
                "w.yaml:3:29: error: YAML syntax error: a second ': ' in one entry, which YAML reads as the start of a mapping; quote a value that contains ': ', e.g. en: 'Note: \"armed\" robbery'"
            ])
    }

    @Test func theQuotedValueShownLeavesAnEndOfLineCommentOut() throws {
        #expect(
            try Self.diagnostics(
                replacing: "title: {zh: 街面抢劫处置, en: Street robbery response}", with: "title: Note: street robbery  # the title") == [
                    "w.yaml:3:12: error: YAML syntax error: a second ': ' in one entry, which YAML reads as the start of a mapping; quote a value that contains ': ', e.g. title: \"Note: street robbery\""
                ])
    }

    @Test func aFullWidthColonAfterAKeyInAFlowMappingIsPointedAt() throws {
        #expect(
            try Self.diagnostics(replacing: "{type: priority, required: true}", with: "{type： priority, required: true}") == [
                "w.yaml:5:13: error: missing required key 'type' in attribute 'priority'",
                "w.yaml:5:18: error: unknown key 'type： priority' in attribute 'priority'; did you type a full-width colon '：'? use ':'",
                "w.yaml:16:17: error: unknown attribute 'priority' in guard; attributes: weapon_involved, incident_type",
            ])
        #expect(
            try Self.diagnostics(replacing: "{assess: assessing}", with: "{assess： assessing}") == [
                "w.yaml:11:16: error: 'assess： assessing' is not a valid event name; did you type a full-width colon '：'? use ':'"
            ])
    }

    @Test func aFullWidthColonInATitleIsText() throws {
        #expect(try Self.diagnostics(replacing: "title: {zh: 街面抢劫处置, en: Street robbery response}", with: "title: 注意：街面抢劫") == [])
    }
    /// A line a space short of or past its neighbours: libyaml's "did not find expected key"
    /// or "mapping values are not allowed" name no indentation; the hint names the columns.
    @Test(arguments: [
        (
            "    initial: true\n    on: {assess: assessing}", "    initial: true\n   on: {assess: assessing}",
            "w.yaml:11:4: error: YAML syntax error: this line is indented 3 spaces, which lines up with no entry above it (line 10 is indented 4, line 9 is indented 2); the entries of one mapping or list line up exactly: indent it as far as the one it belongs beside"
        ),
        (
            "    initial: true\n    on: {assess: assessing}", "    initial: true\n     on: {assess: assessing}",
            "w.yaml:11:6: error: YAML syntax error: this line is indented 5 spaces, which lines up with no entry above it (line 10 is indented 4); the entries of one mapping or list line up exactly: indent it as far as the one it belongs beside"
        ),
        (
            "          when: priority <= P2\n        - to: in_action", "          when: priority <= P2\n         - to: in_action",
            "w.yaml:17:10: error: YAML syntax error: this line is indented 9 spaces, which lines up with no entry above it (line 16 is indented 10, line 15's '-' is indented 8); the entries of one mapping or list line up exactly: indent it as far as the one it belongs beside"
        ),
    ])
    func aLineThatLinesUpWithNoEntryAboveItNamesTheIndentation(old: String, new: String, expected: String) throws {
        #expect(try Self.diagnostics(replacing: old, with: new) == [expected])
    }

}
