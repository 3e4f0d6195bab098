import JointOpsCore
import Testing

/// What a start takes from an operator, on the real armed-response workflow: every refusal
/// says what was expected, and quotes the value harmlessly.
@Suite struct StartArgumentTests {
    let workflow: Workflow

    init() throws { workflow = try Repository.workflow(Repository.workflows.appendingPathComponent("armed-response.yaml")) }

    func refusal(_ attributes: [String: String], id: String = "OP-1") -> String? {
        do {
            _ = try OperationState.start(workflow, id: id, region: "hexi", attributes: attributes, at: .t0, actor: nil)
            return nil
        } catch {
            return error.reason
        }
    }

    let required = ["incident_type": "armed_robbery", "priority": "P1"]

    @Test func everyMissingAttributeIsNamedAtOnce() {
        #expect(refusal([:]) == "attributes 'incident_type', 'priority' are required by workflow 'armed-response'")
        #expect(refusal(["priority": "P1"]) == "attribute 'incident_type' is required by workflow 'armed-response'")
    }

    @Test func countsCannotBeNegative() {
        #expect(refusal(required.merging(["hostages": "-5"]) { $1 }) == "attribute 'hostages' must be a whole number, 0 or more; got '-5'")
        #expect(refusal(required.merging(["hostages": "0", "suspects": "3"]) { $1 }) == nil)
    }

    @Test func textsAreBoundedAndFreeOfControlCharacters() {
        let escape = refusal(required.merging(["location": "\u{1B}]0;pwned\u{07}\u{1B}[2J"]) { $1 })
        #expect(
            escape
                == #"attribute 'location' must be a text without control characters (newlines, tabs, escapes); got '\u{1B}]0;pwned\u{07}\u{1B}[2J'"#
        )
        let long = refusal(required.merging(["location": String(repeating: "路", count: 2000)]) { $1 }) ?? ""
        #expect(long.hasPrefix("attribute 'location' must be a text of at most 4096 bytes (this one has 6000); got '路路"), "\(long)")
        #expect(long.hasSuffix("路…'"), "only the start of a long value is quoted")
        #expect(refusal(required.merging(["location": "河西区友谊路 32 号"]) { $1 }) == nil)
    }

    @Test func aBooleanSaysWhichWordsItTakes() {
        #expect(refusal(required.merging(["weapon_involved": "True"]) { $1 })?.contains("true or false (yes and no are taken too)") == true)
        #expect(refusal(required.merging(["weapon_involved": "yes"]) { $1 }) == nil)
    }

    @Test func operationIDsAreCheckedBeforeAnythingElse() {
        #expect(refusal(required, id: "OP 1")?.hasPrefix("the operation id has a space, control or non-ASCII character at byte 3") == true)
        #expect(refusal(required, id: "_x")?.hasPrefix("the operation id starts with '_'") == true)
        #expect(refusal(required, id: "OP-2026.x_1") == nil)
    }
}
