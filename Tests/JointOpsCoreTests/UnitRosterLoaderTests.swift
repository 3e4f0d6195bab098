import JointOpsCore
import Testing

/// Roster import from YAML and CSV, checked against the jurisdiction.
@Suite struct UnitRosterLoaderTests {
    @Test func theSampleRosterLoadsAndDispatchesArmedSWATToHexi() throws {
        let tree = try JurisdictionTests.sample()
        let url = Repository.root.appendingPathComponent("Regions/units.yaml")
        let result = UnitRosterLoader.loadYAML(source: try Repository.text(url), file: "units.yaml", tree: tree)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics.map(\.description).joined(separator: "\n"))")
        let units = try #require(result.units)
        #expect(units.count >= 200)
        #expect(units.contains { $0.kind == .swat && $0.capabilities.contains("negotiator") })
        #expect(units.contains { $0.capabilities.contains("k9") })
        var roster = UnitRoster(tree: tree)
        for unit in units { _ = try roster.add(unit) }
        let selection = try UnitSelector.select(
            UnitRequest(kind: .swat, count: 2, capabilities: ["armed"], region: "hexi-liulin"), in: roster)
        #expect(selection.unitIDs == ["hx-swat-01", "hx-swat-02"])
        #expect(selection.chosen[0].reason == "homed in hexi-swat, from ancestor hexi (1 level up): no free swat unit with armed nearer")
    }

    /// Where each unit is written, for an import the roster refuses later (an id it has).
    @Test func eachUnitComesWithWhereItsIdIsWritten() throws {
        let tree = try JurisdictionTests.sample()
        let yaml = UnitRosterLoader.loadYAML(
            source:
                "units:\n  a-1: {call_sign: A1, branch: swat, home_region: hexi-swat}\n\n  a-2: {call_sign: A2, branch: swat, home_region: hexi}\n",
            file: "u.yaml", tree: tree)
        #expect(yaml.locations.map(\.description) == ["u.yaml:2:3", "u.yaml:4:3"])
        let csv = UnitRosterLoader.loadCSV(
            source: "call_sign,id,branch,home_region\n# a comment\nA1,a-1,swat,hexi-swat\n", file: "u.csv", tree: tree)
        #expect(csv.locations.map(\.description) == ["u.csv:3:4"])
    }

    /// Reproducer: a CRLF file (a spreadsheet's export) was read as one header line and
    /// refused ("unknown column 'capabilities⏎a-1'"); an unclosed quote was taken silently.
    @Test func csvWithCRLFOrCRLinesIsReadAndAnUnclosedQuoteIsRefused() throws {
        let tree = try JurisdictionTests.sample()
        for newline in ["\r\n", "\r"] {
            let source = ["id,call_sign,branch,home_region,capabilities", "a-1,A1,swat,hexi-swat,armed", "a-2,\"A, 2\",swat,hexi,"]
                .joined(separator: newline) + newline
            let result = UnitRosterLoader.loadCSV(source: source, file: "u.csv", tree: tree)
            #expect(result.units?.map(\.callSign) == ["A1", "A, 2"], "\(result.diagnostics)")
            #expect(result.locations.map(\.description) == ["u.csv:2:1", "u.csv:3:1"])
        }
        let unclosed = UnitRosterLoader.loadCSV(
            source: "id,call_sign,branch,home_region\na-3,\"Call 3,swat,hexi\n", file: "u.csv", tree: tree)
        #expect(unclosed.units == nil)
        #expect(
            unclosed.diagnostics.map(\.description) == [
                "u.csv:2:5: error: the quote opened here is not closed; add the closing '\"' (a field cannot span lines)"
            ])
    }

    @Test func yamlErrorsHaveLinesColumnsAndSuggestions() throws {
        let tree = try JurisdictionTests.sample()
        let source = """
            units:
              a-1: {call_sign: A1, branch: swat, home_region: hexi-swat, capabilities: [armed]}
              a-2: {call_sign: A2, branch: swot, home_region: hexi-liulim}
              a-3: {call_sign: A3, branch: traffic, home: hexi}

            """
        let result = UnitRosterLoader.loadYAML(source: source, file: "units.yaml", tree: tree)
        #expect(result.units == nil)
        #expect(
            result.diagnostics.map(\.description) == [
                "units.yaml:3:32: error: the branch of unit 'a-2' must be one of criminal_investigation, public_order, swat, population, traffic, intelligence, liaison, other; found 'swot'; did you mean 'swat'?",
                "units.yaml:3:51: error: the home region of unit 'a-2': unknown region 'hexi-liulim'; did you mean 'hexi-liulin', 'hexi-liulin-g1' or 'hexi-liulin-g2'?",
                "units.yaml:4:8: error: missing required key 'home_region' in unit 'a-3'",
                "units.yaml:4:41: error: unknown key 'home' in unit 'a-3'; allowed keys: call_sign, branch, home_region, capabilities",
            ])
    }

    @Test func csvLoadsWithQuotesAndCapabilities() throws {
        let tree = try JurisdictionTests.sample()
        let source = """
            # Hexi night shift
            id,call_sign,branch,home_region,capabilities
            hx-swat-09,"河西特警9组, 夜班",swat,hexi-swat,armed;negotiator
            ll-po-9,柳林巡逻9,public_order,hexi-liulin,

            """
        let result = UnitRosterLoader.loadCSV(source: source, file: "night.csv", tree: tree)
        #expect(result.diagnostics.isEmpty, "\(result.diagnostics)")
        let units = try #require(result.units)
        #expect(units.map(\.id) == ["hx-swat-09", "ll-po-9"])
        #expect(units[0].callSign == "河西特警9组, 夜班")
        #expect(units[0].capabilities == ["armed", "negotiator"])
        #expect(units[1].capabilities.isEmpty && units[1].kind == .publicOrder)
    }

    @Test func csvErrorsHaveLinesColumnsAndSuggestions() throws {
        let tree = try JurisdictionTests.sample()
        let source = """
            id,call_sign,branch,home_region,capabilities
            hx-swat-09,河西特警9组,swat,hexi-swat,armed
            hx-swat-09,河西特警9组,swat,hexi-swat,armed
            ll-po-9,柳林巡逻9,patrol,hexl,Armed
            ll-po-10,柳林巡逻10,public_order

            """
        let result = UnitRosterLoader.loadCSV(source: source, file: "bad.csv", tree: tree)
        #expect(result.units == nil)
        #expect(
            result.diagnostics.map(\.description) == [
                "bad.csv:3:1: error: duplicate unit 'hx-swat-09' (first at line 2); give each unit its own id",
                "bad.csv:4:15: error: the branch of unit 'll-po-9' must be one of criminal_investigation, public_order, swat, population, traffic, intelligence, liaison, other; found 'patrol'",
                "bad.csv:4:22: error: the home region of unit 'll-po-9': unknown region 'hexl'; did you mean 'hexi'?",
                "bad.csv:4:27: error: 'Armed' is not a valid capability of unit 'll-po-9': use lowercase letters, digits and '_', separate capabilities with ';'",
                "bad.csv:5:29: error: line has 3 fields but the header names 5; 'home_region' is missing",
            ])
        let header = UnitRosterLoader.loadCSV(source: "id,callsign,branch,home_region\n", file: "h.csv", tree: tree)
        #expect(
            header.diagnostics.map(\.description) == [
                "h.csv:1:1: error: the header lacks column 'call_sign'; it needs id,call_sign,branch,home_region and may add capabilities",
                "h.csv:1:4: error: unknown column 'callsign'; did you mean 'call_sign'?",
            ])
    }
}
