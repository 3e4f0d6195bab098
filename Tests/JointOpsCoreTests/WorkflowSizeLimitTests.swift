import JointOpsCore
import Testing

/// Limits a workflow-language fuzzer showed were missing: each input below crashed or hung
/// the validator and jointopsd (which loads the same files), and is now refused with
/// FILE:LINE:COLUMN and what to do.
@Suite struct WorkflowSizeLimitTests {
    static func minimal(_ edit: (String) -> String) throws -> WorkflowLoader.Result {
        let source = try Repository.text(Repository.fixtures.appendingPathComponent("valid/minimal.yaml"))
        let edited = edit(source)
        #expect(edited != source)
        return WorkflowLoader.load(source: edited, file: "w.yaml")
    }

    static func messages(_ result: WorkflowLoader.Result) -> [String] { result.diagnostics.map { String($0.description.prefix(300)) } }

    /// Reproducer: 16,000 nested `not`s (65 KB) overflowed the stack of the guard parser
    /// and compiler: the validator died of SIGSEGV, jointopsd too, at every start.
    @Test(arguments: [
        (String(repeating: "not ", count: 20_000) + "weapon_involved", "at most 4096 bytes"),
        (String(repeating: "not ", count: 65) + "weapon_involved", "nested deeper than 64"),
        (String(repeating: "(", count: 65) + "weapon_involved" + String(repeating: ")", count: 65), "nested deeper than 64"),
        (Array(repeating: "true", count: 257).joined(separator: " and "), "at most 256 conditions"),
    ])
    func aGuardTooLongOrTooDeepIsRefused(guardText: String, expected: String) throws {
        let result = try Self.minimal { $0.replacingOccurrences(of: "when: weapon_involved", with: "when: \(guardText)") }
        #expect(result.workflow == nil)
        #expect(Self.messages(result).contains { $0.hasPrefix("w.yaml:22:") && $0.contains(expected) }, "\(Self.messages(result))")
    }

    /// Reproducer: `count > １０` (full-width digits, from an input method) said "number
    /// '１０' is too large".
    @Test func aDigitOfAnotherScriptInAGuardIsNamedAsSuch() throws {
        let result = try Self.minimal { $0.replacingOccurrences(of: "when: weapon_involved", with: "when: weapon_involved or ３ == ٣") }
        #expect(
            Self.messages(result).contains(
                "w.yaml:22:34: error: '３' is not a digit a guard reads; write numbers with ASCII digits 0-9 (switch the input method to half-width)"
            ), "\(Self.messages(result))")
    }

    @Test func guardsWithinTheLimitsAreAccepted() throws {
        let deep = String(repeating: "not ", count: 64) + "weapon_involved"
        let result = try Self.minimal { $0.replacingOccurrences(of: "when: weapon_involved", with: "when: \(deep)") }
        #expect(result.workflow != nil, "\(Self.messages(result))")
        let long = Array(repeating: "true", count: 256).joined(separator: " or ")
        #expect(try Self.minimal { $0.replacingOccurrences(of: "when: weapon_involved", with: "when: \(long)") }.workflow != nil)
    }

    /// Reproducer: `units: 9223372036854775807` passed, and jointopsd aborted when the branch
    /// was dispatched (it reserved room for that many units).
    @Test func unitsAreAtMostAThousand() throws {
        let result = try Self.minimal { $0.replacingOccurrences(of: "units: 2", with: "units: 9223372036854775807") }
        #expect(Self.messages(result).contains("w.yaml:31:12: error: 'units' must be at most 1000, found 9223372036854775807"))
        #expect(try Self.minimal { $0.replacingOccurrences(of: "units: 2", with: "units: 1000") }.workflow != nil)
        // A version a store already holds still loads, whatever it asks for.
        let source = try Repository.text(Repository.fixtures.appendingPathComponent("valid/minimal.yaml"))
            .replacingOccurrences(of: "units: 2", with: "units: 5000")
        #expect(WorkflowLoader.load(source: source, file: "stored", appliesLaterLimits: false).workflow?.branches[0].units == 5000)
    }

    /// Reproducer: a 10,000-phase file took over 30 s and 800 MB to check; a 30,000-character
    /// phase name cost 2.7 s per misspelt reference.
    @Test func phasesAndNamesAreBounded() throws {
        let phases = (0..<201).map { "  extra_\($0): {on: {next: reviewing}}\n" }.joined()
        let many = try Self.minimal { $0.replacingOccurrences(of: "  reviewing:\n", with: phases + "  reviewing:\n") }
        #expect(Self.messages(many).contains { $0.contains("205 phases: at most 200") }, "\(Self.messages(many))")
        let name = String(repeating: "a", count: 65)
        let long = try Self.minimal { $0.replacingOccurrences(of: "reviewing", with: name) }
        #expect(Self.messages(long).contains { $0.contains("(65 characters) is too long for a phase name: at most 64") })
        let fits = try Self.minimal { $0.replacingOccurrences(of: "reviewing", with: String(repeating: "a", count: 64)) }
        #expect(fits.workflow != nil, "\(Self.messages(fits))")
    }
}
