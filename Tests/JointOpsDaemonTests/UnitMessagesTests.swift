import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// What a dispatcher reads when a unit command is refused: why, with the branch by its
/// name, and what to do instead.
@Suite(.serialized) struct UnitMessagesTests {
    static func ctl(_ daemon: DaemonHarness, _ arguments: [String]) throws -> CommandLineOutputTests.Output {
        try CommandLineOutputTests.ctl(arguments, socket: daemon.socket)
    }

    @Test func aCommittedUnitIsTakenOffItsBranchWithAReasonAndOutOfServiceByWayOfReturning() throws {
        let (daemon, roster) = try UnitFillTests.daemon()
        defer { try? FileManager.default.removeItem(at: roster) }
        #expect(try UnitsTests.dispatch(daemon, "OP-1").error == nil)  // swat: s1, s2
        // No such unit is "not found" (exit 2), as no such operation is.
        let unknown = try Self.ctl(daemon, ["units", "status", "s99", "available"])
        #expect(unknown.status == 2, "\(unknown.stderr)")
        #expect(unknown.stderr.hasPrefix("refused: unknown unit 's99'"), "\(unknown.stderr)")
        let noReason = try Self.ctl(daemon, ["units", "status", "s1", "returning"])
        #expect(noReason.status == 64)
        #expect(
            noReason.stderr
                == "a reason is needed: unit 's1' serves OP-1 (branch swat, active); setting it returning takes it off that branch, which then awaits a replacement — give the reason (it is recorded), or check the unit id\n"
        )
        for reason in [["officer injured"], []] {
            let outOfService = try Self.ctl(daemon, ["units", "status", "s1", "out_of_service"] + reason)
            #expect(outOfService.status == 1)
            #expect(
                outOfService.stderr
                    == "refused: unit 's1' cannot go from dispatched to out_of_service while it serves OP-1 (branch swat); release it first with `jointopsctl units status s1 returning \"REASON\"` — the branch then awaits a replacement — and then set it out_of_service\n"
            )
        }
        #expect(try Self.ctl(daemon, ["units", "status", "s1", "returning", "officer injured"]).status == 0)
        // The reason as the other unit commands take theirs (`--reason`) is as good, and once is enough.
        let twice = try Self.ctl(daemon, ["units", "status", "s1", "out_of_service", "officer injured", "--reason", "again"])
        #expect(twice.status == 64)
        #expect(twice.stderr.contains("give the reason once: after the status, or with --reason"), "\(twice.stderr)")
        #expect(try Self.ctl(daemon, ["units", "status", "s1", "out_of_service", "--reason", "officer injured"]).status == 0)
        let retire = try Self.ctl(daemon, ["units", "retire", "s2"])
        #expect(
            retire.stderr == "refused: unit 's2' is dispatched for operation OP-1 branch swat and cannot be retired; release it first\n")
    }

    @Test func unitsNamedForAnEndedOperationOrTheSameOneAreRefusedSayingSo() throws {
        let (daemon, roster) = try UnitFillTests.daemon()
        defer { try? FileManager.default.removeItem(at: roster) }
        #expect(try UnitsTests.dispatch(daemon, "OP-1").error == nil)  // swat: s1, s2
        #expect(try UnitsTests.dispatch(daemon, "OP-9").error == nil)  // swat: s3, awaits 1
        #expect(try Self.ctl(daemon, ["cancel", "OP-9", "duplicate"]).status == 0)
        let ended = try Self.ctl(daemon, ["units", "assign", "OP-9", "swat", "s3", "--reason", "nearest"])
        #expect(ended.status == 1)
        #expect(
            ended.stderr.range(
                of:
                    #"^refused: operation OP-9 has ended: cancelled at <time> \(duplicate\); units can no longer be assigned to it\.\n"#,
                options: .regularExpression) != nil, "\(ended.stderr)")
        // A second SWAT team of OP-1 awaits its unit: one of OP-1's own cannot be preempted for it.
        #expect(try Self.ctl(daemon, ["reinforce", "OP-1", "swat", "--units", "1"]).status == 0)
        let same = try Self.ctl(daemon, ["units", "assign", "OP-1", "swat#2", "s1", "--reason", "nearest"])
        #expect(
            same.stderr
                == "refused: unit 's1' is already committed to operation OP-1 branch swat (dispatched); a unit serves one branch at a time — release it there first (set it available, with a reason), then assign it\n"
        )
        let preempt = try Self.ctl(daemon, ["units", "preempt", "s1", "OP-1", "swat#2", "--reason", "nearest"])
        #expect(
            preempt.stderr
                == "refused: unit 's1' already serves OP-1 (branch swat); preempting takes a unit from another operation — to move it to another branch of this one, release it there first (set it available, with a reason), then assign it\n"
        )
    }

    @Test func aRetiredIdIsNotReusedAndAnImportThatClashesSaysWhereAndThatNothingWasImported() throws {
        let (daemon, roster) = try UnitFillTests.daemon()
        defer { try? FileManager.default.removeItem(at: roster) }
        #expect(try Self.ctl(daemon, ["units", "retire", "s4"]).status == 0)
        let again = try Self.ctl(daemon, ["units", "add", "s4", "--call-sign", "特警4", "--branch", "swat", "--home", "hexi-swat"])
        #expect(again.status == 1)
        #expect(again.stderr == "refused: unit 's4' is retired, and ids are not reused (the record keeps its history): pick a new id\n")
        let file = roster.appendingPathComponent("more.csv")
        try "id,call_sign,branch,home_region\ns9,特警9,swat,hexi-swat\np1,巡逻1,public_order,hexi-liulin\n".write(
            to: file, atomically: true, encoding: .utf8)
        let clash = try Self.ctl(daemon, ["units", "import", file.path])
        #expect(clash.status == 1)
        #expect(
            clash.stderr
                == "refused: \(file.path):3:1: unit 'p1' already exists; change it instead of adding it again; nothing was imported\n")
        #expect(try UnitsTests.unit(daemon, "s9") == nil)
    }

    /// Reproducer: `units add … --home nowhere` exited 1, as if the roster's state refused
    /// it, while `start … --region nowhere` exited 64. Both are a region to correct, checked
    /// against the jurisdiction: both exit 64, in the same words.
    @Test func anUnknownHomeRegionIsAUsageErrorAsAnUnknownRegionIs() throws {
        let (daemon, roster) = try UnitFillTests.daemon()
        defer { try? FileManager.default.removeItem(at: roster) }
        let start = try Self.ctl(daemon, ["start", "armed-response", "--region", "nowhere", "-a", "priority=P1"])
        #expect(start.status == 64)
        #expect(start.stderr.hasPrefix("invalid region: unknown region 'nowhere'"), "\(start.stderr)")
        let why = start.stderr.dropFirst("invalid region: ".count)
        let add = try Self.ctl(daemon, ["units", "add", "s9", "--call-sign", "特警9", "--branch", "swat", "--home", "nowhere"])
        #expect(add.status == 64)
        #expect(add.stdout == "")
        #expect(add.stderr == "invalid homeRegion: \(why)")
        let typo = try Self.ctl(daemon, ["units", "add", "s9", "--call-sign", "特警9", "--branch", "swat", "--home", "hexi-swt"])
        #expect(typo.status == 64)
        #expect(typo.stderr == "invalid homeRegion: unknown region 'hexi-swt'; did you mean 'hexi-swat'?\n")
        let change = try Self.ctl(daemon, ["units", "change", "s1", "--home", "hexi-swt"])
        #expect(change.status == 64)
        #expect(change.stderr == "invalid homeRegion: unknown region 'hexi-swt'; did you mean 'hexi-swat'?\n")
        #expect(try UnitsTests.unit(daemon, "s9") == nil, "nothing was added")
        #expect(try UnitsTests.unit(daemon, "s1")?["homeRegion"] == .string("hexi-swat"), "nothing was changed")
        // A refusal of the roster's state is still exit 1.
        let twice = try Self.ctl(daemon, ["units", "add", "s1", "--call-sign", "特警1", "--branch", "swat", "--home", "hexi-swat"])
        #expect(twice.status == 1)
        #expect(twice.stderr == "refused: unit 's1' already exists; change it instead of adding it again\n")
    }

    /// Reproducer: a roster over max_message_bytes got "jointopsd closed the connection
    /// before answering (it may be restarting)", however often it was retried: the daemon
    /// answered, then closed while jointopsctl was still sending, and the answer was not read.
    @Test func aRosterTooLargeForOneCallSaysSoAndWhatToDo() throws {
        let (daemon, roster) = try UnitFillTests.daemon()
        defer { try? FileManager.default.removeItem(at: roster) }
        let file = roster.appendingPathComponent("big.csv")
        let rows = (0..<3000).map { "big-\($0),特警\($0),swat,hexi-swat" }
        try (["id,call_sign,branch,home_region"] + rows).joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        let refused = try Self.ctl(daemon, ["units", "import", file.path])
        #expect(refused.status == 64, "\(refused.stderr)")
        #expect(
            refused.stderr
                == "jointopsd refused the call: a message may be at most 65536 bytes (jointopsd's max_message_bytes); send less at a time (a roster in parts), or raise that setting; the connection is closed\n"
        )
        #expect(try UnitsTests.unit(daemon, "big-0") == nil)
    }

    @Test func aReinforcementOfNoUnitsIsAUsageErrorLikeOneOfTooMany() throws {
        let (daemon, roster) = try UnitFillTests.daemon()
        defer { try? FileManager.default.removeItem(at: roster) }
        #expect(try UnitsTests.dispatch(daemon, "OP-1").error == nil)
        let none = try Self.ctl(daemon, ["reinforce", "OP-1", "public_order", "--units", "0"])
        #expect(none.status == 64)
        #expect(none.stderr.hasPrefix("Error: --units must be at least 1\n"), "\(none.stderr)")
        #expect(try Self.ctl(daemon, ["reinforce", "OP-1", "public_order", "--units", "500"]).status == 64)
        let call = try daemon.call(
            "io.jointops.Operations.Reinforce", ["id": .string("OP-1"), "branch": .string("public_order"), "units": .int(0)])
        #expect(call.error == "org.varlink.service.InvalidParameter")
        #expect(call.parameters["parameter"] == .string("units"))
    }
}
