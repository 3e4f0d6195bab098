import Foundation
import JointOpsCore
import JointOpsProtocol
import Synchronization
import Testing

/// Dispatching real units through a real jointopsd: the jurisdiction, selection with
/// ancestor fallback and capabilities, awaiting units, the lifecycle, release,
/// preemption, never twice under concurrency, and the views.
@Suite(.serialized) struct UnitsTests {
    static func items(_ value: JSONValue?) -> [JSONValue] { value?.arrayValue ?? [] }

    /// A folder with a file, removed by the caller.
    static func folder(_ files: [String: String]) throws -> URL {
        let folder = URL(fileURLWithPath: "/tmp").appendingPathComponent("jointops-units-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return folder
    }

    /// armed-response (with `extra` appended to its file) alone in a workflows folder.
    static func armedResponse(appending extra: String = "", replacing: (String, String)? = nil) throws -> URL {
        var text = try String(contentsOf: DaemonHarness.root.appendingPathComponent("Workflows/armed-response.yaml"), encoding: .utf8)
        if let (old, new) = replacing { text = text.replacingOccurrences(of: old, with: new) }
        return try folder(["armed-response.yaml": text + extra])
    }

    /// A roster of three armed SWAT units of Hexi, one public order unit per Hexi station and
    /// two traffic units.
    static let smallRoster = """
        id,call_sign,branch,home_region,capabilities
        s1,特警1,swat,hexi-swat,armed
        s2,特警2,swat,hexi-swat,armed;negotiator
        s3,特警3,swat,tj-swat,armed
        s4,特警4,swat,hexi-swat,
        p1,巡逻1,public_order,hexi-liulin,
        p2,巡逻2,public_order,hexi-guajiasi,
        p3,巡逻3,public_order,hexi-youyilu,
        p4,巡逻4,public_order,hexi-jianshan,
        p5,巡逻5,public_order,hexi,
        t1,交警1,traffic,tj-traffic-command,
        t2,交警2,traffic,tj-traffic-command,

        """

    static func start(_ daemon: DaemonHarness, _ id: String, region: String = "hexi", priority: String = "P1") throws -> VarlinkReply {
        var start = armedStart
        start["id"] = .string(id)
        start["region"] = .string(region)
        start["attributes"] = .object([
            "incident_type": .string("armed_robbery"), "priority": .string(priority), "weapon_involved": .string("true"),
        ])
        return try daemon.call("io.jointops.Operations.Start", start)
    }

    /// Starts an armed response and dispatches it (public order, SWAT, traffic).
    static func dispatch(_ daemon: DaemonHarness, _ id: String, region: String = "hexi", priority: String = "P1") throws -> VarlinkReply {
        let started = try start(daemon, id, region: region, priority: priority)
        guard started.error == nil else { return started }
        _ = try daemon.call("io.jointops.Operations.Fire", ["id": .string(id), "event": .string("assess")])
        return try daemon.call("io.jointops.Operations.Fire", ["id": .string(id), "event": .string("dispatch")])
    }

    static func branch(_ reply: VarlinkReply, _ instance: String) -> JSONValue? {
        items(reply.operation?["branches"]).first { $0["instance"] == .string(instance) }
    }

    static func units(_ value: JSONValue?) -> [String] { items(value).compactMap(\.stringValue) }

    static func unit(_ daemon: DaemonHarness, _ id: String) throws -> JSONValue? {
        items(try daemon.call("io.jointops.Units.List", ["includeRetired": .bool(true)]).parameters["units"]).first {
            $0["id"] == .string(id)
        }
    }

    @Test func unknownRegionsAreRefusedWithTheClosestIds() throws {
        let daemon = try DaemonHarness()
        // Reproducer: a capability no unit has (a typo) listed "no units", exit 0.
        let capability = try daemon.call("io.jointops.Units.List", ["capability": .string("armedd")])
        #expect(capability.error == "org.varlink.service.InvalidParameter", "\(capability)")
        #expect(
            capability.parameters["description"]?.stringValue?.hasPrefix("no unit has capability 'armedd'; did you mean 'armed'?") == true,
            "\(capability)")
        #expect(try daemon.call("io.jointops.Units.List", ["capability": .string("armed")]).error == nil)
        let refused = try Self.start(daemon, "OP-R1", region: "hexi-liulm")
        #expect(refused.error == "org.varlink.service.InvalidParameter")
        #expect(refused.parameters["parameter"] == .string("region"))
        #expect(refused.parameters["description"]?.stringValue?.contains("unknown region 'hexi-liulm'; did you mean 'hexi-liulin'") == true)
        #expect(try Self.start(daemon, "OP-R1").error == nil)
        let reassign = try daemon.call("io.jointops.Operations.Reassign", ["id": .string("OP-R1"), "region": .string("nankia")])
        #expect(reassign.error == "org.varlink.service.InvalidParameter")
        #expect(reassign.parameters["description"]?.stringValue?.contains("'nankai'") == true, "\(reassign)")
        let reinforce = try daemon.call(
            "io.jointops.Operations.Reinforce", ["id": .string("OP-R1"), "branch": .string("swat"), "region": .string("hexi-swt")])
        #expect(reinforce.error == "org.varlink.service.InvalidParameter")
        #expect(reinforce.parameters["description"]?.stringValue?.contains("'hexi-swat'") == true, "\(reinforce)")
        let history = try daemon.call("io.jointops.Operations.History", ["id": .string("OP-R1")])
        #expect(Self.items(history.parameters["events"]).count == 2, "refusals record nothing")
    }

    @Test func aWorkflowDispatchingToAnUnknownRegionIsNotLoadedAndAnInvalidTreeIsNotReloaded() throws {
        let workflows = try Self.armedResponse(replacing: ("region: tj-traffic-command", "region: tj-trafic-command"))
        let regions = try Self.folder([
            "regions.yaml": try String(contentsOf: URL(fileURLWithPath: DaemonHarness.sampleRegions), encoding: .utf8)
        ])
        defer {
            try? FileManager.default.removeItem(at: workflows)
            try? FileManager.default.removeItem(at: regions)
        }
        try "".write(to: workflows.appendingPathComponent("public-assistance.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(at: workflows.appendingPathComponent("public-assistance.yaml"))
        try FileManager.default.copyItem(
            at: DaemonHarness.root.appendingPathComponent("Workflows/public-assistance.yaml"),
            to: workflows.appendingPathComponent("public-assistance.yaml"))
        let daemon = try DaemonHarness(workflows: workflows.path, regions: regions.appendingPathComponent("regions.yaml").path)
        #expect(daemon.log.contains("dispatches branch 'traffic' to unknown region 'tj-trafic-command'; did you mean 'tj-traffic-command'"))
        #expect(daemon.log.contains("armed-response.yaml:"), "the problem has the file's location")
        let loaded = try daemon.call("io.jointops.Operations.Workflows")
        #expect(!Self.items(loaded.parameters["workflows"]).contains { $0["id"] == .string("armed-response") })
        // A tree with an unknown parent: the reload is refused with FILE:LINE:COLUMN, nothing changes.
        let tree = regions.appendingPathComponent("regions.yaml")
        let good = try String(contentsOf: tree, encoding: .utf8)
        try (good + "  hexi-new: {parent: hexii, level: station, name: 新站}\n").write(to: tree, atomically: true, encoding: .utf8)
        let reload = try daemon.call("io.jointops.Admin.Reload")
        #expect(reload.error == "io.jointops.Admin.ReloadFailed")
        let problems = Self.units(reload.parameters["problems"]).joined(separator: "\n")
        #expect(problems.contains("regions.yaml:") && problems.contains("hexii"), "\(problems)")
        #expect(try daemon.call("io.jointops.Units.List", ["region": .string("hexi-new")]).error == "org.varlink.service.InvalidParameter")
    }

    @Test func dispatchPicksUnitsFromTheRegionThenItsAncestorsWithTheCapabilitiesAsked() throws {
        let daemon = try DaemonHarness()
        let dispatched = try Self.dispatch(daemon, "OP-D1", region: "hexi-liulin")
        #expect(dispatched.error == nil, "\(dispatched)")
        #expect(
            Self.units(Self.branch(dispatched, "public_order")?["assignedUnits"]) == ["hx-liulin-po-1", "hx-liulin-po-2", "hx-liulin-po-3"])
        // No SWAT unit at Liulin station: the nearest armed ones, from Hexi's SWAT detachment.
        #expect(Self.units(Self.branch(dispatched, "swat")?["assignedUnits"]) == ["hx-swat-01", "hx-swat-02"])
        #expect(Self.branch(dispatched, "swat")?["awaitingUnits"] == .int(0))
        let history = Self.items(try daemon.call("io.jointops.Operations.History", ["id": .string("OP-D1")]).parameters["events"])
        let swat = history.first { $0["kind"] == .string("units_assigned") && $0["description"]?.stringValue?.hasPrefix("swat") == true }
        #expect(
            swat?["description"]?.stringValue?.contains(
                "hx-swat-01 (homed in hexi-swat, from ancestor hexi (1 level up): no free swat unit with armed nearer)")
                == true, "\(history)")
        let unit = try Self.unit(daemon, "hx-swat-01")
        #expect(unit?["status"] == .string("dispatched"))
        #expect(unit?["operation"] == .string("OP-D1"))
        #expect(unit?["instance"] == .string("swat"))
        let metrics = try daemon.call("io.jointops.Admin.Metrics").parameters["text"]?.stringValue ?? ""
        #expect(metrics.contains(#"jointops_units{status="dispatched",branch="swat"} 2.0"#), "\(metrics)")
        #expect(metrics.contains(#"jointops_units{status="available",branch="swat"} 30.0"#))
        // Statuses no unit has are there at 0 from the start, as they are after units left them.
        #expect(metrics.contains(#"jointops_units{status="out_of_service",branch="swat"} 0.0"#), "\(metrics)")
        #expect(metrics.contains(#"jointops_units{status="returning",branch="traffic"} 0.0"#), "\(metrics)")
        // Entering a step with unit_status moves the branch's units.
        #expect(
            try daemon.call(
                "io.jointops.Operations.Advance", ["id": .string("OP-D1"), "branch": .string("swat"), "step": .string("on_scene")]
            ).error == nil)
        #expect(try Self.unit(daemon, "hx-swat-02")?["status"] == .string("on_scene"))
    }

    @Test func aShortBranchAwaitsUnitsEscalatesAndIsFilledWhenAUnitBecomesFree() throws {
        let workflows = try Self.armedResponse(
            appending: "awaiting_units:\n  within: 1s\n  escalation:\n    - {after: 0s, notify: duty_commander}\n")
        let roster = try Self.folder(["units.csv": Self.smallRoster])
        defer {
            try? FileManager.default.removeItem(at: workflows)
            try? FileManager.default.removeItem(at: roster)
        }
        let daemon = try DaemonHarness(workflows: workflows.path, units: roster.appendingPathComponent("units.csv").path)
        #expect(try Self.dispatch(daemon, "OP-A1").error == nil)
        let second = try Self.dispatch(daemon, "OP-A2")
        // Three armed SWAT units in all: OP-A1 took two, OP-A2 got the third and awaits one.
        #expect(Self.units(Self.branch(second, "swat")?["assignedUnits"]) == ["s3"])
        #expect(Self.branch(second, "swat")?["awaitingUnits"] == .int(1))
        let listed = Self.items(try daemon.call("io.jointops.Operations.List").parameters["operations"])
        // Also short of public order (1) and traffic (2) units.
        #expect(listed.first { $0["id"] == .string("OP-A2") }?["awaitingUnits"] == .int(4))
        var overdue: [JSONValue] = []
        for _ in 0..<100 {
            overdue = Self.items(try daemon.call("io.jointops.Operations.Overdue").parameters["overdue"])
            if overdue.contains(where: { $0["deadline"] == .string("awaiting_units:swat") }) { break }
            usleep(50_000)
        }
        let late = overdue.first { $0["deadline"] == .string("awaiting_units:swat") }
        #expect(late?["operation"] == .string("OP-A2"), "\(overdue)")
        let alerted = Self.units(late?["alerted"])
        #expect(alerted.contains("duty_commander"))
        // OP-A1 stands its SWAT down: the units go to returning (release: returning), so
        // nothing is free yet; once one is available again, OP-A2 gets it.
        #expect(
            try daemon.call(
                "io.jointops.Operations.Advance", ["id": .string("OP-A1"), "branch": .string("swat"), "step": .string("stood_down")]
            )
            .error == nil)
        #expect(try Self.unit(daemon, "s1")?["status"] == .string("returning"))
        #expect(try daemon.call("io.jointops.Units.SetStatus", ["id": .string("s1"), "status": .string("available")]).error == nil)
        var filled: JSONValue?
        for _ in 0..<100 {
            filled = Self.branch(try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-A2")]), "swat")
            if filled?["awaitingUnits"] == .int(0) { break }
            usleep(50_000)
        }
        #expect(Self.units(filled?["assignedUnits"]) == ["s3", "s1"], "\(String(describing: filled))")
        let shown = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-A2")])
        let escalation = Self.items(shown.operation?["escalations"]).first { $0["deadline"] == .string("awaiting_units:swat") }
        #expect(escalation?["resolvedAt"] != .null, "filling the branch resolves its escalation")
        #expect(try daemon.call("io.jointops.Admin.Verify").parameters["intact"] == .bool(true))
    }

    @Test func anAwaitingBranchIsFilledWithTheCapabilitiesItsDispatchAskedForAlsoAfterARestart() throws {
        let roster = try Self.folder(["units.csv": Self.smallRoster])
        defer { try? FileManager.default.removeItem(at: roster) }
        let daemon = try DaemonHarness(units: roster.appendingPathComponent("units.csv").path)
        var start = armedStart
        start["id"] = .string("OP-H1")
        start["attributes"] = .object([
            "incident_type": .string("hostage_taking"), "priority": .string("P1"), "weapon_involved": .string("true"),
        ])
        #expect(try daemon.call("io.jointops.Operations.Start", start).error == nil)
        _ = try daemon.call("io.jointops.Operations.Fire", ["id": .string("OP-H1"), "event": .string("assess")])
        let negotiating = try daemon.call("io.jointops.Operations.Fire", ["id": .string("OP-H1"), "event": .string("dispatch")])
        #expect(negotiating.operation?["phase"] == .string("negotiating"), "\(negotiating)")
        // Only s2 is armed and a negotiator: one of the two SWAT teams asked for is awaited.
        #expect(Self.units(Self.branch(negotiating, "swat")?["assignedUnits"]) == ["s2"])
        #expect(Self.branch(negotiating, "swat")?["awaitingUnits"] == .int(1))
        try daemon.restart()
        func add(_ id: String, _ capabilities: [String]) throws {
            let added = try daemon.call(
                "io.jointops.Units.Add",
                [
                    "id": .string(id), "callSign": .string(id), "branch": .string("swat"), "homeRegion": .string("hexi-swat"),
                    "capabilities": .array(capabilities.map(JSONValue.string)),
                ])
            #expect(added.error == nil, "\(added)")
        }
        try add("s9", ["armed"])
        usleep(300_000)
        #expect(try Self.unit(daemon, "s9")?["status"] == .string("available"), "no negotiator: not taken")
        try add("s10", ["armed", "negotiator"])
        var swat: JSONValue?
        for _ in 0..<100 {
            swat = Self.branch(try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-H1")]), "swat")
            if swat?["awaitingUnits"] == .int(0) { break }
            usleep(50_000)
        }
        #expect(Self.units(swat?["assignedUnits"]) == ["s2", "s10"], "\(String(describing: swat))")
    }

    @Test func freedUnitsGoToTheHigherPriorityAwaitingBranchFirst() throws {
        let roster = try Self.folder(["units.csv": Self.smallRoster])
        defer { try? FileManager.default.removeItem(at: roster) }
        let daemon = try DaemonHarness(units: roster.appendingPathComponent("units.csv").path)
        #expect(try Self.dispatch(daemon, "OP-P0", priority: "P2").error == nil)  // s1, s2
        #expect(try Self.dispatch(daemon, "OP-P3", priority: "P3").error == nil)  // s3, awaits 1
        #expect(try Self.dispatch(daemon, "OP-P1", priority: "P1").error == nil)  // awaits 2, dispatched later
        #expect(try daemon.call("io.jointops.Operations.Cancel", ["id": .string("OP-P0"), "reason": .string("duplicate")]).error == nil)
        #expect(try daemon.call("io.jointops.Units.SetStatus", ["id": .string("s1"), "status": .string("available")]).error == nil)
        var swat: JSONValue?
        for _ in 0..<100 {
            swat = Self.branch(try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-P1")]), "swat")
            if !Self.units(swat?["assignedUnits"]).isEmpty { break }
            usleep(50_000)
        }
        #expect(Self.units(swat?["assignedUnits"]) == ["s1"], "P1 before the older P3")
        let older = Self.branch(try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-P3")]), "swat")
        #expect(Self.units(older?["assignedUnits"]) == ["s3"])
        #expect(older?["awaitingUnits"] == .int(1))
    }

    @Test func transitionsOutsideTheLifecycleAreRefusedWithAnExplanation() throws {
        let daemon = try DaemonHarness()
        #expect(try Self.dispatch(daemon, "OP-L1", region: "hexi-liulin").error == nil)
        func status(_ id: String, _ to: String, _ reason: String? = nil) throws -> VarlinkReply {
            var parameters: [String: JSONValue] = ["id": .string(id), "status": .string(to)]
            if let reason { parameters["reason"] = .string(reason) }
            return try daemon.call("io.jointops.Units.SetStatus", parameters)
        }
        let once: [String: JSONValue] = [
            "id": .string("hx-liulin-po-1"), "status": .string("on_scene"), "requestId": .string("req-on-scene-1"),
        ]
        let first = try daemon.call("io.jointops.Units.SetStatus", once)
        #expect(first.error == nil, "\(first)")
        let events = try daemon.call("io.jointops.Admin.Verify").parameters["eventsChecked"]
        // A retry with the same request id gets the first reply and applies nothing again.
        let retry = try daemon.call("io.jointops.Units.SetStatus", once)
        #expect(retry.error == nil && retry.parameters == first.parameters, "\(retry)")
        #expect(try daemon.call("io.jointops.Admin.Verify").parameters["eventsChecked"] == events)
        let reused = try daemon.call("io.jointops.Units.Retire", ["id": .string("hx-liulin-po-2"), "requestId": .string("req-on-scene-1")])
        #expect(reused.parameters["parameter"] == .string("requestId"))
        let back = try status("hx-liulin-po-1", "en_route")
        #expect(back.error == "io.jointops.Units.UnitRefused")
        #expect(back.parameters["code"] == .string("illegal_transition"))
        #expect(
            back.parameters["reason"]
                == .string("unit 'hx-liulin-po-1' cannot go from on_scene to en_route; from on_scene it can go to returning, available"))
        #expect(try status("hx-jiansh-po-1", "dispatched").parameters["code"] == .string("illegal_transition"))
        // A missing reason is a mistake in the call, as for any status that takes a unit off a branch.
        let unexplained = try status("hx-jiansh-po-1", "out_of_service")
        #expect(unexplained.error == "org.varlink.service.InvalidParameter")
        #expect(unexplained.parameters["parameter"] == .string("reason"))
        #expect(try status("hx-jiansh-po-1", "out_of_service", "engine failure").error == nil)
        #expect(try Self.unit(daemon, "hx-jiansh-po-1")?["statusReason"] == .string("engine failure"))
        #expect(try status("hx-jiansh-po-1", "en_route").parameters["code"] == .string("illegal_transition"))
        #expect(try status("hx-jiansh-po-1", "flying").error == "org.varlink.service.InvalidParameter")
        #expect(try daemon.call("io.jointops.Units.Retire", ["id": .string("hx-swat-01")]).parameters["code"] == .string("committed"))
        #expect(try status("hx-nope", "available").parameters["code"] == .string("unknown_unit"))
        // A committed unit made available is released, and its operation records it — with a
        // reason, as it weakens a live branch.
        #expect(try status("hx-liulin-po-2", "available").parameters["parameter"] == .string("reason"))
        #expect(try status("hx-liulin-po-2", "available", "called away by the duty commander").error == nil)
        // The branch awaits a replacement, and gets one: not the unit taken off it.
        let replaced = try UnitFillTests.branch(daemon, "OP-L1", "public_order") { $0?["awaitingUnits"] == .int(0) }
        let assigned = Self.units(replaced?["assignedUnits"])
        #expect(assigned.prefix(2) == ["hx-liulin-po-1", "hx-liulin-po-3"] && assigned.count == 3, "\(assigned)")
        #expect(!assigned.contains("hx-liulin-po-2"))
    }

    @Test func endingABranchReleasesItsUnitsSwatThroughReturning() throws {
        let daemon = try DaemonHarness()
        #expect(try Self.dispatch(daemon, "OP-E1", region: "hexi-liulin").error == nil)
        #expect(try daemon.call("io.jointops.Operations.Cancel", ["id": .string("OP-E1"), "reason": .string("false_alarm")]).error == nil)
        #expect(try Self.unit(daemon, "hx-swat-01")?["status"] == .string("returning"))
        #expect(try Self.unit(daemon, "hx-swat-01")?["operation"] == .null)
        #expect(try Self.unit(daemon, "hx-liulin-po-1")?["status"] == .string("available"))
        let history = Self.items(try daemon.call("io.jointops.Operations.History", ["id": .string("OP-E1")]).parameters["events"])
        #expect(history.contains { $0["description"] == .string("swat released hx-swat-01, hx-swat-02 → returning") }, "\(history)")
        // Committed units survive a restart; the chain covers roster and operation events.
        #expect(try Self.dispatch(daemon, "OP-E2", region: "hexi-liulin").error == nil)
        try daemon.restart()
        #expect(try Self.unit(daemon, "hx-liulin-po-1")?["operation"] == .string("OP-E2"))
        #expect(try Self.unit(daemon, "hx-swat-01")?["status"] == .string("returning"))
        #expect(try daemon.call("io.jointops.Admin.Verify").parameters["intact"] == .bool(true))
    }

    @Test func onlyAHigherPriorityOperationMayTakeAUnitWithAReasonAndTheOtherEscalates() throws {
        let roster = try Self.folder(["units.csv": Self.smallRoster])
        defer { try? FileManager.default.removeItem(at: roster) }
        let daemon = try DaemonHarness(units: roster.appendingPathComponent("units.csv").path)
        #expect(try Self.dispatch(daemon, "OP-LOW", priority: "P3").error == nil)  // swat: s1, s2
        #expect(try Self.dispatch(daemon, "OP-HIGH", priority: "P1").error == nil)  // swat: s3, awaits 1
        func preempt(_ unit: String, _ operation: String, _ reason: String?) throws -> VarlinkReply {
            var parameters: [String: JSONValue] = ["id": .string(unit), "operation": .string(operation), "instance": .string("swat")]
            if let reason { parameters["reason"] = .string(reason) }
            return try daemon.call("io.jointops.Units.Preempt", parameters)
        }
        let upward = try preempt("s3", "OP-LOW", "want it")
        #expect(upward.parameters["code"] == .string("lower_priority"), "\(upward)")
        #expect(try preempt("s1", "OP-HIGH", nil).error == "org.varlink.service.InvalidParameter")
        let taken = try preempt("s1", "OP-HIGH", "hostages reported")
        #expect(taken.error == nil, "\(taken)")
        #expect(taken.parameters["unit"]?["operation"] == .string("OP-HIGH"))
        let low = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-LOW")])
        #expect(Self.units(Self.branch(low, "swat")?["assignedUnits"]) == ["s2"])
        #expect(Self.branch(low, "swat")?["awaitingUnits"] == .int(1), "the loser awaits a replacement")
        #expect(
            Self.items(low.operation?["escalations"]).contains {
                $0["reason"] == .string("unit s1 taken from swat: hostages reported") && $0["resolvedAt"] == .null
            })
        let high = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-HIGH")])
        #expect(Self.units(Self.branch(high, "swat")?["assignedUnits"]) == ["s3", "s1"])
    }

    @Test func concurrentDispatchesNeverCommitAUnitTwice() throws {
        let roster = try Self.folder(["units.csv": Self.smallRoster])
        defer { try? FileManager.default.removeItem(at: roster) }
        let daemon = try DaemonHarness(units: roster.appendingPathComponent("units.csv").path)
        let count = 50
        for index in 0..<count {
            #expect(try Self.start(daemon, "OP-C\(index)").error == nil)
            _ = try daemon.call("io.jointops.Operations.Fire", ["id": .string("OP-C\(index)"), "event": .string("assess")])
        }
        // Fifty dispatches at once, each asking for 2 armed SWAT, 3 public order and 2 traffic units.
        let errors = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: count) { index in
            do {
                let reply = try daemon.call("io.jointops.Operations.Fire", ["id": .string("OP-C\(index)"), "event": .string("dispatch")])
                if let error = reply.error { errors.withLock { $0.append(error) } }
            } catch {
                errors.withLock { $0.append("\(error)") }
            }
        }
        #expect(errors.withLock { $0 }.isEmpty)
        var holder: [String: String] = [:]
        var twice: [String] = []
        for index in 0..<count {
            let shown = try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-C\(index)")])
            for branch in Self.items(shown.operation?["branches"]) {
                for unit in Self.units(branch["assignedUnits"]) {
                    if let other = holder[unit] { twice.append("\(unit): \(other) and OP-C\(index)") }
                    holder[unit] = "OP-C\(index)"
                }
            }
        }
        #expect(twice.isEmpty, "\(twice)")
        #expect(holder.keys.filter { $0.hasPrefix("s") }.sorted() == ["s1", "s2", "s3"], "every armed SWAT unit went somewhere")
        for unit in Self.items(try daemon.call("io.jointops.Units.List").parameters["units"]) {
            let id = unit["id"]?.stringValue ?? ""
            #expect(unit["operation"]?.stringValue == holder[id], "\(id): the roster and the operations agree")
        }
        try daemon.restart()
        for unit in Self.items(try daemon.call("io.jointops.Units.List").parameters["units"]) {
            #expect(unit["operation"]?.stringValue == holder[unit["id"]?.stringValue ?? ""])
        }
    }

    @Test func theRosterIsChangedByOperatorsAndEveryChangeIsLogged() throws {
        let daemon = try DaemonHarness()
        let added = try daemon.call(
            "io.jointops.Units.Add",
            [
                "id": .string("hx-k9-09"), "callSign": .string("河西警犬9"), "branch": .string("public_order"), "homeRegion": .string("hexi"),
                "capabilities": .array([.string("k9")]),
            ])
        #expect(added.error == nil, "\(added)")
        let badHome = try daemon.call(
            "io.jointops.Units.Add",
            ["id": .string("x1"), "callSign": .string("X"), "branch": .string("swat"), "homeRegion": .string("hexi-swt")])
        #expect(badHome.error == "org.varlink.service.InvalidParameter")
        #expect(badHome.parameters["parameter"] == .string("homeRegion"))
        #expect(badHome.parameters["description"]?.stringValue?.contains("did you mean 'hexi-swat'") == true, "\(badHome)")
        let badKind = try daemon.call(
            "io.jointops.Units.Add",
            ["id": .string("x1"), "callSign": .string("X"), "branch": .string("swot"), "homeRegion": .string("hexi")])
        #expect(badKind.error == "org.varlink.service.InvalidParameter")
        #expect(badKind.parameters["parameter"] == .string("branch"))
        #expect(
            try daemon.call(
                "io.jointops.Units.Change", ["id": .string("hx-k9-09"), "capabilities": .array([.string("k9"), .string("armed")])]
            )
            .error == nil)
        #expect(try daemon.call("io.jointops.Units.Retire", ["id": .string("hx-k9-09")]).error == nil)
        let csv = "id,call_sign,branch,home_region\nnk-new-1,南开新1,traffic,nankai\nnk-new-2,南开新2,traffic,nankai\n"
        let imported = try daemon.call("io.jointops.Units.Import", ["text": .string(csv), "format": .string("csv")])
        #expect(Self.units(imported.parameters["added"]) == ["nk-new-1", "nk-new-2"])
        let duplicate = try daemon.call("io.jointops.Units.Import", ["text": .string(csv), "format": .string("csv")])
        #expect(duplicate.parameters["code"] == .string("duplicate_unit"), "all or none")
        try daemon.restart()
        #expect(try Self.unit(daemon, "hx-k9-09")?["retired"] == .bool(true))
        #expect(Self.units(try Self.unit(daemon, "hx-k9-09")?["capabilities"]) == ["armed", "k9"])
        #expect(try Self.unit(daemon, "nk-new-2")?["status"] == .string("available"))
        let verify = try daemon.call("io.jointops.Admin.Verify")
        #expect(verify.parameters["intact"] == .bool(true))
        // 288 imported at the first start, then added, changed, retired, two imported.
        #expect(verify.parameters["eventsChecked"] == .int(288 + 5))
    }

    @Test func unitsAndRegionsPrintExactlyThis() throws {
        let daemon = try DaemonHarness()
        #expect(try Self.dispatch(daemon, "OP-V1", region: "hexi-liulin").error == nil)
        let units = try CommandLineOutputTests.ctl(["units", "--region", "hexi-liulin"], socket: daemon.socket)
        #expect(units.status == 0)
        #expect(
            units.stdout == """
                UNIT  CALL SIGN  BRANCH  HOME  CAPABILITIES  STATUS  OPERATION
                hx-liulin-g1-pop  柳林网格员1  population  hexi-liulin-g1  -  available  -
                hx-liulin-g2-pop  柳林网格员2  population  hexi-liulin-g2  -  available  -
                hx-liulin-po-1  柳林巡逻1  public_order  hexi-liulin  -  dispatched  OP-V1 public_order
                hx-liulin-po-2  柳林巡逻2  public_order  hexi-liulin  -  dispatched  OP-V1 public_order
                hx-liulin-po-3  柳林巡逻3  public_order  hexi-liulin  -  dispatched  OP-V1 public_order
                hx-liulin-pop-1  柳林社区民警1  population  hexi-liulin  -  available  -

                """)
        let swat = try CommandLineOutputTests.ctl(
            ["units", "--branch", "swat", "--capability", "negotiator", "--status", "available"], socket: daemon.socket)
        #expect(
            swat.stdout == """
                UNIT  CALL SIGN  BRANCH  HOME  CAPABILITIES  STATUS  OPERATION
                tj-swat-03  津特警3组  swat  tj-swat  armed,negotiator  available  -
                tj-swat-07  津特警7组  swat  tj-swat  armed,negotiator  available  -

                """)
        let regions = try CommandLineOutputTests.ctl(["regions", "--region", "hexi-liulin"], socket: daemon.socket)
        #expect(
            regions.stdout == """
                REGION  LEVEL  NAME  FREE  FREE WITHIN  OPERATIONS
                hexi-liulin  station  柳林派出所 / Liulin Station  1  3  OP-V1
                  hexi-liulin-g1  grid  柳林第一网格 / Liulin Grid 1  1  1
                  hexi-liulin-g2  grid  柳林第二网格 / Liulin Grid 2  1  1

                """)
        let bad = try CommandLineOutputTests.ctl(["units", "--status", "busy"], socket: daemon.socket)
        #expect(bad.status == 64)
        #expect(
            bad.stderr
                == "invalid status: 'busy' is not a unit status; use one of available, dispatched, en_route, on_scene, returning, out_of_service\n"
        )
        let refused = try CommandLineOutputTests.ctl(["units", "status", "hx-liulin-po-1", "en_route"], socket: daemon.socket)
        #expect(refused.status == 0)
        let back = try CommandLineOutputTests.ctl(["units", "status", "hx-liulin-po-1", "dispatched"], socket: daemon.socket)
        #expect(back.status == 1)
        #expect(
            back.stderr
                == "refused: unit 'hx-liulin-po-1' cannot go from en_route to dispatched; from en_route it can go to on_scene, returning, available\n"
        )
    }

    @Test func aWatcherSeesUnitEventsOfOperationsAndRosterChanges() throws {
        let daemon = try DaemonHarness()
        #expect(try Self.start(daemon, "OP-W1", region: "hexi-liulin").error == nil)
        let watcher = try daemon.watch()
        #expect(try watcher.receive().operation?["id"] == .string("OP-W1"))
        _ = try daemon.call("io.jointops.Operations.Fire", ["id": .string("OP-W1"), "event": .string("assess")])
        _ = try daemon.call("io.jointops.Operations.Fire", ["id": .string("OP-W1"), "event": .string("dispatch")])
        var kinds: [String] = []
        while kinds.count < 20 {
            let reply = try watcher.receive()
            if let kind = reply.parameters["event"]?["kind"]?.stringValue { kinds.append(kind) }
            if reply.operation?["phase"] == .string("responding") { break }
        }
        #expect(kinds.filter { $0 == "units_assigned" }.count == 3, "\(kinds)")
        #expect(
            try daemon.call(
                "io.jointops.Units.SetStatus",
                ["id": .string("hx-jiansh-po-1"), "status": .string("out_of_service"), "reason": .string("flat tyre")]
            ).error
                == nil)
        let roster = try watcher.receive()
        #expect(roster.parameters["event"]?["kind"] == .string("unit_status"))
        #expect(roster.parameters["event"]?["operation"] == .string("@units"))
        #expect(roster.parameters["unit"]?["status"] == .string("out_of_service"))
        var reserved = armedStart
        reserved["id"] = .string("@units")
        #expect(try daemon.call("io.jointops.Operations.Start", reserved).parameters["parameter"] == .string("id"))
        let history = Self.items(try daemon.call("io.jointops.Operations.History", ["id": .string("@units")]).parameters["events"])
        #expect(history.last?["description"] == .string("unit_status hx-jiansh-po-1 → out_of_service"))
        #expect(history.last?["sequence"] == roster.parameters["event"]?["sequence"], "the watched roster event is the logged one")
        #expect(history.last?["operationSequence"] == roster.parameters["event"]?["operationSequence"])
    }

    @Test func anOperatorMayNameTheUnitsOfAReinforcementWithAReason() throws {
        let daemon = try DaemonHarness()
        #expect(try Self.dispatch(daemon, "OP-N1", region: "hexi-liulin").error == nil)
        func reinforce(_ units: [String], _ reason: String?) throws -> VarlinkReply {
            var parameters: [String: JSONValue] = [
                "id": .string("OP-N1"), "branch": .string("swat"), "units": .int(2), "unitIds": .array(units.map(JSONValue.string)),
            ]
            if let reason { parameters["unitsReason"] = .string(reason) }
            return try daemon.call("io.jointops.Operations.Reinforce", parameters)
        }
        #expect(try reinforce(["tj-swat-05"], nil).parameters["parameter"] == .string("unitsReason"))
        let wrongKind = try reinforce(["tj-traffic-01"], "closest")
        #expect(wrongKind.parameters["reason"] == .string("unit 'tj-traffic-01' serves traffic, not swat; name swat units for this branch"))
        let busy = try reinforce(["hx-swat-01"], "closest")
        #expect(busy.parameters["code"] == .string("committed"))
        #expect(
            Self.items(try daemon.call("io.jointops.Operations.Show", ["id": .string("OP-N1")]).operation?["branches"]).count == 3,
            "refusals add no branch")
        let sent = try reinforce(["tj-swat-05"], "K9 needed for the search")
        #expect(sent.error == nil, "\(sent)")
        let second = Self.branch(sent, "swat#2")
        // Two asked, one named: the other is the nearest free armed one (Hexi's third team).
        #expect(Self.units(second?["assignedUnits"]) == ["tj-swat-05", "hx-swat-03"])
        #expect(second?["awaitingUnits"] == .int(0))
        let history = Self.items(try daemon.call("io.jointops.Operations.History", ["id": .string("OP-N1")]).parameters["events"])
        #expect(history.contains { $0["description"] == .string("swat#2 assigned 1 unit: tj-swat-05 (named: K9 needed for the search)") })
    }

    @Test func aReportForADistrictCoversItsStationsAndGrids() throws {
        let daemon = try DaemonHarness()
        #expect(try Self.start(daemon, "OP-S1", region: "hexi-liulin-g1").error == nil)
        #expect(try Self.start(daemon, "OP-S2", region: "heping").error == nil)
        func started(_ region: String) throws -> JSONValue? {
            let reply = try daemon.evaluate(["region": .string(region)])
            if let error = reply.error { return .string(error) }
            return DaemonHarness.currentFigures(reply)["operations.started"]
        }
        #expect(try started("hexi") == .int(1))
        #expect(try started("hexi-liulin") == .int(1))
        #expect(try started("hexi-guajiasi") == .int(0))
        #expect(try started("tianjin") == .int(2))
        #expect(try started("hexii") == .string("org.varlink.service.InvalidParameter"))
    }

    @Test func theEvaluationReportMeasuresTimeToAssignAndUnitTimePerBranch() throws {
        let daemon = try DaemonHarness()
        #expect(try Self.dispatch(daemon, "OP-U1", region: "hexi-liulin").error == nil)
        #expect(try daemon.call("io.jointops.Operations.Cancel", ["id": .string("OP-U1"), "reason": .string("false_alarm")]).error == nil)
        func figures(_ filters: [String: JSONValue] = [:]) throws -> [String: JSONValue] {
            DaemonHarness.currentFigures(try daemon.evaluate(filters))
        }
        let all = try figures()
        #expect(all["units.assigned"] == .int(7), "3 public order, 2 SWAT, 2 traffic")
        #expect(all["dispatch_to_assigned.count"] == .int(3))
        #expect(all["dispatch_to_assigned.p90"] == .int(0), "every unit was free at once")
        #expect(all["units.committed"] != nil)
        let swat = try figures(["branch": .string("swat")])
        #expect(swat["units.assigned"] == .int(2))
        #expect(try figures(["region": .string("heping")])["units.assigned"] == .int(0))
    }

    @Test func aConfiguredJurisdictionThatIsMissingOrInvalidStopsTheStartWithItsErrors() throws {
        do {
            _ = try DaemonHarness(regions: "/nonexistent/regions.yaml")
            Issue.record("jointopsd started without its configured jurisdiction")
        } catch let error as HarnessError {
            #expect(error.description.contains("cannot read the jurisdiction file /nonexistent/regions.yaml"), "\(error)")
        }
        let regions = try Self.folder([
            "regions.yaml": "regions:\n  tianjin: {level: city, name: 天津}\n  hexi: {parent: tianjn, level: district, name: 河西}\n"
        ])
        defer { try? FileManager.default.removeItem(at: regions) }
        do {
            _ = try DaemonHarness(regions: regions.appendingPathComponent("regions.yaml").path)
            Issue.record("jointopsd started with an invalid jurisdiction")
        } catch let error as HarnessError {
            #expect(error.description.contains("regions.yaml:3:"), "\(error)")
            #expect(error.description.contains("tianjn"), "\(error)")
        }
    }

    @Test func withoutAJurisdictionRegionsAreNotCheckedAndTheLogSaysSo() throws {
        let daemon = try DaemonHarness(regions: nil)
        #expect(try Self.start(daemon, "OP-N1", region: "anywhere").error == nil)
        #expect(try daemon.call("io.jointops.Units.List").error == "io.jointops.Units.RegionsNotConfigured")
        #expect(daemon.log.contains("regions are NOT checked"))
    }

    /// Reproducer: an upgrade that brought a jurisdiction but no roster left every dispatch
    /// waiting for units, with only "roster: 0 units" at info level to say why.
    @Test func aJurisdictionWithoutUnitsIsWarnedAboutAndAUnitsFileIsSaidToBeUnreadOnceTheStoreHasARoster() throws {
        let empty = try DaemonHarness(units: nil)
        let warning = empty.log.split(separator: "\n").first { $0.contains("the roster has no units") }
        #expect(warning?.contains(" warning jointopsd: ") == true, "\(empty.log)")
        #expect(warning?.contains("set 'units:' in the configuration to a roster file") == true, "\(empty.log)")
        empty.stop()
        let daemon = try DaemonHarness()
        #expect(!daemon.log.contains("the roster has no units"))
        try daemon.restart()
        #expect(daemon.log.contains("not read: the store has its roster"), "\(daemon.log)")
        daemon.stop()
    }
}
