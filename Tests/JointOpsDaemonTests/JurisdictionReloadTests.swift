import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// A jurisdiction read again (reload, or a start after it was edited) keeps every region an
/// open operation or one of its active branches is in, and a reload says what it changed.
@Suite(.serialized) struct JurisdictionReloadTests {
    /// A daemon on a copy of the sample jurisdiction (returned, to edit) and the small roster
    /// (no unit is homed in a grid).
    static func daemon(name: String = #function) throws -> (DaemonHarness, regions: URL, folder: URL) {
        let folder = try UnitsTests.folder([
            "regions.yaml": try String(contentsOfFile: DaemonHarness.sampleRegions, encoding: .utf8), "units.csv": UnitsTests.smallRoster,
        ])
        let regions = folder.appendingPathComponent("regions.yaml")
        let daemon = try DaemonHarness(
            regions: regions.path, units: folder.appendingPathComponent("units.csv").path, name: name)
        return (daemon, regions, folder)
    }

    static func edit(_ file: URL, _ replacements: [(String, String)]) throws {
        var text = try String(contentsOf: file, encoding: .utf8)
        for (old, new) in replacements {
            guard text.contains(old) else { throw HarnessError("\(file.lastPathComponent) has no '\(old)'") }
            text = text.replacingOccurrences(of: old, with: new)
        }
        try text.write(to: file, atomically: true, encoding: .utf8)
    }

    static let renamed = [("  hexi-jianshan-g2: ", "  hexi-jianshan-grid2: "), ("  hexi-liulin-g2: ", "  hexi-liulin-grid2: ")]

    @Test func aReloadThatDropsTheRegionOfAnOpenOperationOrBranchIsRefusedNamingThem() throws {
        let (daemon, regions, folder) = try Self.daemon()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try UnitsTests.dispatch(daemon, "OP-1", region: "hexi-jianshan-g2").error == nil)
        #expect(
            try daemon.call(
                "io.jointops.Operations.Reassign",
                ["id": .string("OP-1"), "region": .string("hexi-liulin-g2"), "branch": .string("public_order")]
            ).error == nil)
        try Self.edit(regions, Self.renamed)
        let reload = try daemon.call("io.jointops.Admin.Reload")
        #expect(reload.error == "io.jointops.Admin.ReloadFailed")
        #expect(
            UnitsTests.units(reload.parameters["problems"]) == [
                "operation OP-1 is in 'hexi-jianshan-g2', which the new jurisdiction lacks; keep the region until it ends, or first move it to a region both jurisdictions have: jointopsctl reassign OP-1 REGION",
                "branch public_order of operation OP-1 is in 'hexi-liulin-g2', which the new jurisdiction lacks; keep the region until it ends, or first move it to a region both jurisdictions have: jointopsctl reassign OP-1 REGION --branch public_order",
            ], "\(reload)")
        let listed = try daemon.call("io.jointops.Operations.List", ["region": .string("hexi-jianshan")])
        #expect(UnitsTests.items(listed.parameters["operations"]).map { $0["id"] } == [.string("OP-1")], "nothing changed")
        // Nor may a start take such a jurisdiction.
        do {
            try daemon.restart()
            Issue.record("jointopsd started without the region of OP-1")
        } catch let error as HarnessError {
            #expect(error.description.contains("operation OP-1 is in 'hexi-jianshan-g2', which \(regions.path) lacks"), "\(error)")
        }
    }

    @Test func aReloadSaysWhatChangedInTheJurisdiction() throws {
        let (daemon, regions, folder) = try Self.daemon()
        defer { try? FileManager.default.removeItem(at: folder) }
        func changes() throws -> [String] {
            let reload = try daemon.call("io.jointops.Admin.Reload")
            #expect(reload.error == nil, "\(reload)")
            return UnitsTests.units(reload.parameters["changes"])
        }
        #expect(try changes() == [])
        try Self.edit(
            regions,
            [
                (
                    "  hexi-jianshan-g2: ",
                    "  hexi-meijiang: {parent: hexi, level: station, name: 梅江派出所}\n  hexi-jianshan-g2: "
                )
            ])
        #expect(try changes() == ["jurisdiction (103 regions): 1 region added (hexi-meijiang)"])
        try Self.edit(regions, Self.renamed)
        let renamed = try changes()
        #expect(
            renamed == [
                "jurisdiction (103 regions): 2 regions added (hexi-jianshan-grid2, hexi-liulin-grid2), 2 regions removed (hexi-jianshan-g2, hexi-liulin-g2)"
            ], "\(renamed)")
        try Self.edit(regions, [("name: 梅江派出所}", "name: 梅江所}")])
        #expect(try changes() == ["jurisdiction (103 regions): names, levels or parents changed; no region added or removed"])
    }

    /// Reproducer: a SIGHUP reload that failed logged "the workflows stay as they were", though
    /// the jurisdiction and the unit roster it binds stay as they were too. A failed reload,
    /// by SIGHUP or over the socket (`admin reload`), names all three, in the same words.
    @Test func aFailedReloadSaysTheWorkflowsTheJurisdictionAndTheRosterStayAsTheyWere() throws {
        let (daemon, regions, folder) = try Self.daemon()
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect(try UnitsTests.start(daemon, "OP-1", region: "hexi-jianshan-g2").error == nil)
        try Self.edit(regions, Self.renamed)
        let kept = "the workflows, the jurisdiction (regions file) and the unit roster stay as they were"
        let problem =
            "operation OP-1 is in 'hexi-jianshan-g2', which the new jurisdiction lacks; keep the region until it ends, or first move it to a region both jurisdictions have: jointopsctl reassign OP-1 REGION"
        let ctl = try CommandLineOutputTests.ctl(["admin", "reload"], socket: daemon.socket)
        #expect(ctl.status == 1)
        #expect(ctl.stderr == "reload failed; \(kept). Fix these and reload again:\n  \(problem)\n")
        #expect(daemon.log.contains("reload failed; \(kept). The problem: \(problem)"), "\(daemon.log)")
        kill(daemon.process.processIdentifier, SIGHUP)
        let hangup = "SIGHUP reload failed; \(kept) (the problems are logged above)"
        for _ in 0..<100 where !daemon.log.contains(hangup) { usleep(50_000) }
        #expect(daemon.log.contains(hangup), "\(daemon.log)")
        let tree = UnitsTests.items(try daemon.call("io.jointops.Units.Regions").parameters["regions"]).compactMap { $0["id"]?.stringValue }
        #expect(tree.contains("hexi-jianshan-g2") && !tree.contains("hexi-jianshan-grid2"), "the jurisdiction stayed as it was")
    }
}
