import Foundation
import JointOpsCore
import Testing

/// Hostile or unusual YAML input (found by fuzzing the validator): refused quickly, and
/// reported where an editor shows the problem, with how to fix it.
@Suite struct YAMLInputTests {
    static func diagnostics(_ source: String, file: String = "w.yaml") -> [String] {
        WorkflowLoader.load(source: source, file: file).diagnostics.map(\.description)
    }

    /// `a0: &a0 [lol ×10]`, `aN: &aN [*aN-1 ×10]` up to `levels`: the last anchor names
    /// 10^(levels+1) values.
    static func aliasBomb(levels: Int) -> String {
        var text = "a0: &a0 [" + Array(repeating: "lol", count: 10).joined(separator: ",") + "]\n"
        for level in 1...levels {
            text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ",") + "]\n"
        }
        return text
    }

    @Test func anAliasAsAMappingKeyIsRefused() {
        let source = "workflow: w\nshared: &shared [a, b]\n? *shared\n: 1\n"
        #expect(
            Self.diagnostics(source) == [
                "w.yaml:3:3: error: an alias (*shared) cannot be a mapping key; write the key out: aliases are supported only as values"
            ])
        #expect(
            Self.diagnostics("workflow: w\nname: &name version\n*name : 1\n") == [
                "w.yaml:3:1: error: an alias (*name) cannot be a mapping key; write the key out: aliases are supported only as values"
            ])
    }

    @Test func anAliasBombUsedAsAKeyIsRefusedInMilliseconds() {
        // Composed, this took 11 s at 7 levels, ten times longer for each more.
        for levels in [4, 7, 9] {
            let source = Self.aliasBomb(levels: levels) + "? *a\(levels)\n: 1\n"
            let start = ContinuousClock.now
            let diagnostics = Self.diagnostics(source)
            #expect(ContinuousClock.now - start < .seconds(1), "\(levels) levels")
            #expect(diagnostics.count == 1)
            #expect(diagnostics.first?.contains("alias") == true, "\(diagnostics)")
        }
    }

    @Test func aliasesMayRepeatAHundredThousandValuesInAll() {
        // The aliases of a1, a2 and a3 repeat 12,330 values; each alias of a3 11,111 more.
        let seven = Self.aliasBomb(levels: 3) + "workflow: w\nsteps: [" + Array(repeating: "*a3", count: 7).joined(separator: ", ") + "]\n"
        #expect(Self.diagnostics(seven).allSatisfy { !$0.contains("alias") })
        let eight = Self.aliasBomb(levels: 3) + "workflow: w\nsteps: [" + Array(repeating: "*a3", count: 8).joined(separator: ", ") + "]\n"
        #expect(
            Self.diagnostics(eight) == [
                "w.yaml:6:44: error: the aliases up to this one (*a3) repeat more than 100000 values in all; an alias of a list of aliases multiplies its size: write the values out, or alias fewer times"
            ])
    }

    @Test func anAliasOfStepsAsTheDocsShowStillWorks() throws {
        let text = try Repository.text(Repository.fixtures.appendingPathComponent("valid/minimal.yaml"))
        let shared = text.replacingOccurrences(
            of: "    kind: public_order\n    units: 2\n    steps:\n",
            with: "    kind: public_order\n    units: 2\n    steps: &patrol_steps\n"
        ).replacingOccurrences(
            of:
                "  swat:\n    kind: swat\n    steps:\n      dispatched: {initial: true, next: [on_scene, stood_down]}\n      on_scene: {next: [completed, stood_down]}\n      completed: {end: completed}\n      stood_down: {end: stood_down}\n",
            with: "  swat:\n    kind: swat\n    steps: *patrol_steps\n")
        #expect(shared.contains("steps: *patrol_steps"))
        let result = WorkflowLoader.load(source: shared, file: "w.yaml")
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        #expect(result.workflow != nil)
    }

    /// Every invalid fixture, with "\r\n" line ends, is reported exactly as with "\n".
    @Test(arguments: InvalidFixtureTests.fixtures)
    func crlfLineEndsChangeNoDiagnostic(_ url: URL) throws {
        let text = try Repository.text(url)
        let crlf = text.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(crlf != text)
        let expected = WorkflowLoader.load(source: text, file: "w.yaml").diagnostics.map(\.description)
        #expect(Self.diagnostics(crlf) == expected)
    }

    @Test func crlfSyntaxHintsAreThoseOfLF() throws {
        let text = try Repository.text(Repository.fixtures.appendingPathComponent("valid/minimal.yaml"))
        for (old, new) in [
            ("version: 1\n", "version: 1\nversion: 2\n"),
            ("    initial: true\n", "\tinitial: true\n"),
            ("[resolved, referred]", "[resolved, referred"),
            ("title: {zh: 街面抢劫处置, en: Street robbery response}", "title: Note: danger"),
            ("version: 1", "version： 1"),
        ] {
            #expect(text.contains(old))
            let lf = text.replacingOccurrences(of: old, with: new)
            let expected = Self.diagnostics(lf)
            #expect(expected.count == 1 && !expected[0].contains("at the end of the file"), "\(expected)")
            #expect(Self.diagnostics(lf.replacingOccurrences(of: "\n", with: "\r\n")) == expected)
        }
    }

    /// libyaml ends a line at U+2028, U+2029 and U+0085 too; editors do not.
    @Test func lineSeparatorsShiftNoLineNumber() throws {
        let text = try Repository.text(Repository.fixtures.appendingPathComponent("valid/minimal.yaml"))
        let wrong = text.replacingOccurrences(of: "{type: bool, default: false}", with: "{type: boolean, default: false}")
        let expected = Self.diagnostics(wrong)
        #expect(!expected.isEmpty && expected.allSatisfy { !$0.hasPrefix("w.yaml:1:") && !$0.hasPrefix("w.yaml:3:") }, "\(expected)")
        for separator in ["\u{2028}", "\u{2029}", "\u{85}"] {
            let shifted = wrong.replacingOccurrences(
                of: "en: Street robbery response}", with: "en: \"Street\(separator)robbery response\"}")
            #expect(Self.diagnostics(shifted) == expected)
        }
    }

    @Test func aLineSeparatorInACommentIsNamed() {
        let source = "workflow: w\nversion: 1\n# note\u{2028}more\ntitle: T\n"
        #expect(
            Self.diagnostics(source) == [
                "w.yaml:3:7: error: YAML syntax error: could not find expected ':'; YAML reads the LINE SEPARATOR (U+2028) here as a line end, though an editor shows none: delete it"
            ])
    }

    /// The minimal workflow with the guard on line 22 (`when: weapon_involved`, 'when' at
    /// column 9) written as `guard`, which may take several lines.
    static func guardDiagnostics(_ guard: String) throws -> [String] {
        let text = try Repository.text(Repository.fixtures.appendingPathComponent("valid/minimal.yaml"))
        #expect(text.contains("        when: weapon_involved\n"))
        return Self.diagnostics(text.replacingOccurrences(of: "        when: weapon_involved\n", with: "        when: \(`guard`)\n"))
    }

    @Test func aGuardMayBeABlockScalar() throws {
        for header in [">", ">-", ">+", "|", "|-", "|+"] {
            #expect(try Self.guardDiagnostics("\(header)\n          weapon_involved and\n          priority <= P2") == [], "\(header)")
        }
        let escapedLineEnd = try Self.guardDiagnostics("\"weapon_involved and \\\n          priority <= P2\"")
        #expect(escapedLineEnd == [])
    }

    @Test func anErrorInAMultiLineGuardIsPlacedWhereItIsWritten() throws {
        let unknown = "error: unknown attribute 'bogus' in guard; attributes: priority, weapon_involved, incident_type"
        let cases: [(String, String)] = [
            // Folded and literal, the error on their second line.
            (">-\n          weapon_involved and\n          priority < P2 and bogus", "24:29"),
            ("|\n          weapon_involved or\n\n            bogus", "25:13"),
            // Plain and quoted over two lines.
            ("weapon_involved and\n          bogus", "23:11"),
            ("\"weapon_involved and\n          bogus\"", "23:11"),
            ("'weapon_involved and\n\n          bogus'", "24:11"),
            // Escapes.
            ("\"\\u0077eapon_involved and bogus\"", "22:41"),
            ("\"weapon_involved\\tand\\x20bogus\"", "22:40"),
            ("\"weapon_involved and \\\n          bogus\"", "23:11"),
        ]
        // Where the guard ends, after '' and characters of several scalars (a family emoji
        // is one Character of five).
        let end = "error: expected a value but found end of guard"
        let atTheEnd: [(String, String)] = [
            ("'incident_type == ''robbery'' and'", "22:48"),
            ("incident_type == '👨‍👩‍👧' and", "22:43"),
        ]
        for (written, place) in atTheEnd {
            let found = try Self.guardDiagnostics(written)
            #expect(found == ["w.yaml:\(place): \(end)"], "\(written)")
        }
        for (written, place) in cases {
            let found = try Self.guardDiagnostics(written)
            #expect(found == ["w.yaml:\(place): \(unknown)"], "\(written)")
        }
    }

    @Test func aControlCharacterIsNamedWhereItIs() {
        #expect(
            Self.diagnostics("workflow: w\nversion: 1\u{0}\n") == [
                "w.yaml:2:11: error: control character U+0000 is not allowed in YAML; delete it (most editors do not show it)"
            ])
        #expect(
            Self.diagnostics("workflow: w\r\ntitle: {zh: 测试, en: \"a\u{7}b\"}\r\n") == [
                "w.yaml:2:23: error: control character U+0007 is not allowed in YAML; delete it (most editors do not show it)"
            ])
    }

    @Test func aByteThatIsNotUTF8IsPointedAt() {
        let bytes = Array("workflow: w\r\ntitle: {zh: 测试, en: caf".utf8) + [0xE9] + Array("}\n".utf8)
        #expect(String(bytes: bytes, encoding: .utf8) == nil)
        #expect(
            WorkflowLoader.notUTF8(file: "w.yaml", bytes: bytes).description
                == "w.yaml:2:24: error: not UTF-8 text: byte 0xE9 here is not part of a UTF-8 character; save the file as UTF-8 (it was perhaps saved as GBK or Latin-1)"
        )
        #expect(
            WorkflowLoader.notUTF8(file: "w.yaml", bytes: [0xEF, 0xBB, 0xBF, 0xFF]).description
                == "w.yaml:1:1: error: not UTF-8 text: byte 0xFF here is not part of a UTF-8 character; save the file as UTF-8 (it was perhaps saved as GBK or Latin-1)"
        )
    }

    /// Input quoted in a message cannot break its one line, drive the terminal, or hide.
    @Test func quotedInputIsShownVisiblyAndShort() throws {
        let text = try Repository.text(Repository.fixtures.appendingPathComponent("valid/minimal.yaml"))
        func version(_ value: String) -> [String] {
            Self.diagnostics(text.replacingOccurrences(of: "version: 1\n", with: "version: \(value)\n"))
        }
        #expect(
            version("|\n  line one\n  line two") == ["w.yaml:2:10: error: 'version' must be an integer ≥ 1, found 'line one\\nline two\\n'"]
        )
        #expect(
            version("\"\\e[2J\\e[31mPWNED\"") == [
                "w.yaml:2:10: error: 'version' must be an integer ≥ 1, found '<U+001B>[2J<U+001B>[31mPWNED'"
            ])
        let long = String(repeating: "x", count: 1000)
        #expect(
            version(long) == [
                "w.yaml:2:10: error: 'version' must be an integer ≥ 1, found '\(String(repeating: "x", count: 80))…'"
            ])
        let hidden = Self.diagnostics(text.replacingOccurrences(of: "version: 1\n", with: "\u{202E}version: 1\n"))
        #expect(hidden.contains("w.yaml:2:1: error: unknown key '<U+202E>version' in the workflow; did you mean 'version'?"), "\(hidden)")
        let zeroWidth = Self.diagnostics(text.replacingOccurrences(of: "[resolved, referred]", with: "[resolved, re\u{200B}ferred]"))
        #expect(
            zeroWidth == [
                "w.yaml:66:28: error: 're<U+200B>ferred' is not a valid disposition: use lowercase letters, digits and '_', starting with a letter"
            ])
    }

    @Test func aQuotedNumberOrBooleanIsSaidToBeText() throws {
        let text = try Repository.text(Repository.fixtures.appendingPathComponent("valid/minimal.yaml"))
        #expect(
            Self.diagnostics(text.replacingOccurrences(of: "version: 1\n", with: "version: \"1\"\n")) == [
                "w.yaml:2:10: error: 'version' must be an integer ≥ 1, found the text \"1\" in quotes; remove the quotes"
            ])
        #expect(
            Self.diagnostics(text.replacingOccurrences(of: "units: 2\n", with: "units: '2'\n")) == [
                "w.yaml:31:12: error: 'units' must be an integer ≥ 1, found the text '2' in quotes; remove the quotes"
            ])
        let initial = Self.diagnostics(text.replacingOccurrences(of: "    initial: true\n", with: "    initial: \"true\"\n"))
        #expect(
            initial.contains("w.yaml:10:14: error: 'initial' must be true or false, found the text \"true\" in quotes; remove the quotes"),
            "\(initial)")
    }

    @Test func aMergeKeyIsSaidToBeUnsupported() throws {
        let text = try Repository.text(Repository.fixtures.appendingPathComponent("valid/minimal.yaml"))
        let merged = text.replacingOccurrences(
            of: "    kind: public_order\n    units: 2\n", with: "    <<: {kind: public_order}\n    units: 2\n")
        #expect(
            Self.diagnostics(merged) == [
                "w.yaml:30:5: error: merge keys ('<<') are not supported in branch 'patrol': write the keys out, or alias the whole mapping (key: *name)"
            ])
    }

    /// A Chinese input method's spaces and punctuation where YAML needs ASCII ones.
    @Test func fullWidthSpacesAndPunctuationAreNamed() throws {
        let text = try Repository.text(Repository.fixtures.appendingPathComponent("valid/minimal.yaml"))
        func replacing(_ old: String, _ new: String) -> [String] {
            #expect(text.contains(old))
            return Self.diagnostics(text.replacingOccurrences(of: old, with: new))
        }
        #expect(
            replacing("  weapon_involved: {type: bool", "\u{3000}\u{3000}weapon_involved: {type: bool") == [
                "w.yaml:6:1: error: YAML syntax error: a full-width space (U+3000) in the indentation; indent with ordinary spaces"
            ])
        #expect(
            replacing("    initial: true\n", "    initial:\u{A0}true\n") == [
                "w.yaml:10:13: error: YAML syntax error: a no-break space (U+00A0) after ':', which YAML does not read as a space; type an ordinary space"
            ])
        #expect(
            replacing("dispositions: [resolved, referred]\n", "dispositions: [resolved, referred]\n---\nworkflow: other\n") == [
                "w.yaml:67:1: error: YAML syntax error: a second document ('---') in the file; a file holds one workflow: remove the '---' and what follows, or move it to a file of its own"
            ])
        #expect(
            replacing("[resolved, referred]", "[resolved， referred]").contains(
                "w.yaml:66:26: error: 'resolved， referred' is not a valid disposition; did you type a full-width '，'? use ','"))
        #expect(
            replacing("[resolved, referred]", "［resolved, referred］").contains(
                "w.yaml:66:17: error: '［resolved, referred］' is not a valid disposition; did you type a full-width '［'? use '['"))
    }

    /// A duplicate key is reported where it is written again, however it is written.
    @Test func aDuplicateKeyIsPlacedAtItsSecondOccurrence() throws {
        let text = try Repository.text(Repository.fixtures.appendingPathComponent("valid/minimal.yaml"))
        let message = "each key may appear once in a mapping"
        #expect(
            Self.diagnostics(text.replacingOccurrences(of: "version: 1\n", with: "version: 1\n\"version\": 2\n")) == [
                "w.yaml:3:1: error: duplicate key 'version' (first at line 2); \(message)"
            ])
        #expect(
            Self.diagnostics(text.replacingOccurrences(of: "en: Street robbery response}", with: "zh: Street robbery response}")) == [
                "w.yaml:3:21: error: duplicate key 'zh' (first at column 9); \(message)"
            ])
        #expect(
            Self.diagnostics(text.replacingOccurrences(of: "    units: 2\n", with: "    units: 2\n    'units': 3\n")) == [
                "w.yaml:32:5: error: duplicate key 'units' (first at line 31); \(message)"
            ])
    }

    /// A list or mapping as a key is shown as written, not as ''.
    @Test func aKeyThatIsAListOrMappingIsShown() throws {
        let text = try Repository.text(Repository.fixtures.appendingPathComponent("valid/minimal.yaml"))
        #expect(
            Self.diagnostics(text.replacingOccurrences(of: "version: 1\n", with: "version: 1\n? [a, b]\n: c\n")) == [
                "w.yaml:3:3: error: a key in the workflow must be a name, found a list '[a, b]'; write the key as a name"
            ])
        let phase = Self.diagnostics(text.replacingOccurrences(of: "  reviewing:\n", with: "  ? {a: [b]}\n  : {}\n  reviewing:\n"))
        #expect(
            phase.first
                == "w.yaml:26:5: error: '{a: [b]}' is not a valid phase name: use lowercase letters, digits and '_', starting with a letter",
            "\(phase)")
    }
}
