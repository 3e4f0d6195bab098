import JointOpsCore
import Testing

/// The unit lifecycle and the roster's refusals: never twice, preemption, release.
@Suite struct UnitRosterTests {
    static func roster() throws -> UnitRoster {
        var roster = UnitRoster(tree: try JurisdictionTests.sample())
        _ = try roster.add(Unit(id: "hx-swat-1", callSign: "河西特警1组", kind: .swat, homeRegion: "hexi-swat", capabilities: ["armed"]))
        _ = try roster.add(Unit(id: "hx-swat-2", callSign: "河西特警2组", kind: .swat, homeRegion: "hexi-swat", capabilities: ["armed"]))
        _ = try roster.add(Unit(id: "ll-patrol-1", callSign: "柳林巡逻1", kind: .publicOrder, homeRegion: "hexi-liulin"))
        return roster
    }

    let a = UnitAssignment(operation: "OP-1", instance: 0)
    let b = UnitAssignment(operation: "OP-2", instance: 1)

    @Test func theLifecycleRunsFromAvailableBackToAvailable() throws {
        var roster = try Self.roster()
        #expect(try roster.assign(["hx-swat-1"], to: a) == [.assigned(unit: "hx-swat-1", to: a)])
        #expect(roster.unit("hx-swat-1")?.status == .dispatched)
        #expect(
            try roster.setStatus("hx-swat-1", to: .enRoute)
                == .statusChanged(unit: "hx-swat-1", from: .dispatched, to: .enRoute, reason: nil))
        _ = try roster.setStatus("hx-swat-1", to: .onScene)
        #expect(roster.release(assignment: a, to: .returning) == [.released(unit: "hx-swat-1", from: a, to: .returning)])
        #expect(roster.unit("hx-swat-1")?.assignment == nil)
        _ = try roster.setStatus("hx-swat-1", to: .available)
        #expect(roster.unit("hx-swat-1")?.status == .available)
        #expect(roster.indexDiscrepancies().isEmpty)
    }

    /// Undoing an add whose commit failed: the unit is gone as if never added (it used to be
    /// kept as a retired "not stored" phantom that blocked its id), the others keep their
    /// assignments in the order assigned, and the selection index stays right.
    @Test func aUnitWhoseAddingFailedIsForgottenAndTheRestStandAsTheyWere() throws {
        var roster = try Self.roster()
        _ = try roster.add(Unit(id: "hx-swat-3", callSign: "河西特警3组", kind: .swat, homeRegion: "hexi-swat", capabilities: ["k9"]))
        _ = try roster.assign(["hx-swat-2", "hx-swat-1"], to: a)
        roster.forget("hx-swat-3")
        #expect(roster.unit("hx-swat-3") == nil)
        #expect(roster.count == 3)
        #expect(roster.units(committedTo: a).map(\.id) == ["hx-swat-2", "hx-swat-1"])
        #expect(roster.indexDiscrepancies().isEmpty)
        _ = try roster.add(Unit(id: "hx-swat-3", callSign: "河西特警3组", kind: .swat, homeRegion: "hexi-swat"))
        // One not at the end, too.
        roster.forget("hx-swat-1")
        #expect(roster.units(committedTo: a).map(\.id) == ["hx-swat-2"])
        #expect(try roster.assign(["hx-swat-3"], to: b) == [.assigned(unit: "hx-swat-3", to: b)])
        #expect(roster.indexDiscrepancies().isEmpty)
    }

    @Test func aSuggestionIsNotSoughtForAWordLongerThanAnyName() {
        let long = String(repeating: "z", count: Suggestions.longestWord + 1)
        #expect(Suggestions.closest(to: long, in: ["zz", "z" + String(repeating: "z", count: Suggestions.longestWord)]) == nil)
        #expect(Suggestions.closest(to: long, in: ["zzz"], limit: 3).isEmpty)
        #expect(Suggestions.closest(to: "hx-swat-01", in: ["hx-swat-1", "ll-patrol-1"]) == "hx-swat-1", "near misses still found")
        #expect(Suggestions.closest(to: "liulin", in: ["hexi-liulin", "hexi"], limit: 3) == ["hexi-liulin"], "containment still found")
    }

    /// A reloaded tree that lacks the homes of units in service is refused naming each of them.
    @Test func aTreeWithoutTheHomesOfUnitsIsRefusedNamingEveryOne() throws {
        var roster = try Self.roster()
        let smaller = try JurisdictionTree(regions: [
            RegionDefinition(id: "tianjin", level: .city, name: Title(zh: "天津", en: nil), parent: nil),
            RegionDefinition(id: "hexi", level: .district, name: Title(zh: "河西", en: nil), parent: "tianjin"),
        ])
        #expect {
            try roster.rebind(to: smaller)
        } throws: {
            ($0 as? UnitRefusal)?.message
                == """
                unit 'hx-swat-1' is homed in 'hexi-swat', which the new jurisdiction lacks; move the unit first
                unit 'hx-swat-2' is homed in 'hexi-swat', which the new jurisdiction lacks; move the unit first
                unit 'll-patrol-1' is homed in 'hexi-liulin', which the new jurisdiction lacks; move the unit first
                """
        }
        #expect(roster.tree.contains("hexi-swat"), "refused: the roster keeps its tree")
    }

    @Test func anIllegalTransitionNamesTheCurrentStatusAndWhereItCanGo() throws {
        var roster = try Self.roster()
        #expect {
            try roster.setStatus("hx-swat-1", to: .onScene)
        } throws: {
            ($0 as? UnitRefusal)?.message
                == "unit 'hx-swat-1' cannot go from available to on_scene; from available it can go to dispatched, out_of_service"
        }
        #expect {
            try roster.setStatus("hx-swat-1", to: .dispatched)
        } throws: {
            ($0 as? UnitRefusal)?.message == "unit 'hx-swat-1' becomes dispatched only by assigning it to an operation's branch"
        }
        #expect(throws: UnitRefusal.self) { try roster.setStatus("hx-swat-1", to: .outOfService) }
        #expect(
            try roster.setStatus("hx-swat-1", to: .outOfService, reason: "vehicle repair")
                == .statusChanged(unit: "hx-swat-1", from: .available, to: .outOfService, reason: "vehicle repair"))
        #expect(roster.unit("hx-swat-1")?.statusReason == "vehicle repair")
        #expect {
            try roster.assign(["hx-swat-1"], to: a)
        } throws: {
            ($0 as? UnitRefusal)?.message == "unit 'hx-swat-1' is out_of_service (vehicle repair), not available; set it available first"
        }
    }

    @Test func settingACommittedUnitAvailableReleasesIt() throws {
        var roster = try Self.roster()
        _ = try roster.assign(["ll-patrol-1"], to: a)
        #expect(try roster.setStatus("ll-patrol-1", to: .available) == .released(unit: "ll-patrol-1", from: a, to: .available))
        #expect(roster.units(committedTo: a).isEmpty)
    }

    @Test func aUnitIsNeverCommittedTwice() throws {
        var roster = try Self.roster()
        _ = try roster.assign(["hx-swat-1"], to: a)
        #expect {
            try roster.assign(["hx-swat-2", "hx-swat-1"], to: b)
        } throws: {
            ($0 as? UnitRefusal)?.message
                == "unit 'hx-swat-1' is already committed to operation OP-1 branch instance 0 (dispatched); a unit serves one operation at a time — preempt it with a reason to move it"
        }
        // All or nothing: hx-swat-2 was not taken either.
        #expect(roster.unit("hx-swat-2")?.status == .available)
        #expect(throws: UnitRefusal.self) { try roster.assign(["hx-swat-1"], to: a) }
        #expect(throws: UnitRefusal.self) { try roster.assign(["hx-swat-2", "hx-swat-2"], to: b) }
    }

    @Test func preemptionNeedsAReasonAndSaysWhoLostTheUnit() throws {
        var roster = try Self.roster()
        _ = try roster.assign(["hx-swat-1"], to: a)
        #expect(throws: UnitRefusal.self) { try roster.preempt("hx-swat-1", to: b, reason: "") }
        #expect(throws: UnitRefusal.self) { try roster.preempt("hx-swat-2", to: b, reason: "hostages") }
        let change = try roster.preempt("hx-swat-1", to: b, reason: "hostage taking in Heping")
        #expect(change == .preempted(unit: "hx-swat-1", from: a, to: b, reason: "hostage taking in Heping"))
        #expect(roster.units(committedTo: a).isEmpty)
        #expect(roster.units(committedTo: b).map(\.id) == ["hx-swat-1"])
        #expect(roster.indexDiscrepancies().isEmpty)
    }

    @Test func retiringIsRefusedWhileCommitted() throws {
        var roster = try Self.roster()
        _ = try roster.assign(["hx-swat-1"], to: a)
        #expect(throws: UnitRefusal.self) { try roster.retire("hx-swat-1") }
        _ = roster.release(assignment: a)
        #expect(try roster.retire("hx-swat-1") == .retired(roster.unit("hx-swat-1")!))
        #expect(throws: UnitRefusal.self) { try roster.assign(["hx-swat-1"], to: a) }
        #expect(roster.indexDiscrepancies().isEmpty)
    }

    @Test func addingAndChangingCheckTheHomeRegion() throws {
        var roster = try Self.roster()
        #expect {
            try roster.add(Unit(id: "x", callSign: "X", kind: .traffic, homeRegion: "hexi-liulim"))
        } throws: {
            ($0 as? UnitRefusal)?.message
                == "home region of unit 'x': unknown region 'hexi-liulim'; did you mean 'hexi-liulin', 'hexi-liulin-g1' or 'hexi-liulin-g2'?"
        }
        #expect(throws: UnitRefusal.self) { try roster.add(Unit(id: "hx-swat-1", callSign: "X", kind: .swat, homeRegion: "hexi")) }
        #expect {
            try roster.change("hx-swat-3", callSign: "X")
        } throws: {
            ($0 as? UnitRefusal)?.message == "unknown unit 'hx-swat-3'; did you mean 'hx-swat-1' or 'hx-swat-2'?"
        }
        let change = try roster.change("ll-patrol-1", capabilities: ["k9"], homeRegion: "hexi-guajiasi")
        guard case .edited(let before, let after) = change else { Issue.record("\(change)"); return }
        #expect(before.homeRegion == "hexi-liulin" && after.homeRegion == "hexi-guajiasi" && after.capabilities == ["k9"])
        #expect(roster.indexDiscrepancies().isEmpty)
    }
}
