import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// Ratings and period reports through the real daemon and jointopsctl.
@Suite(.serialized) struct EvaluationTests {
    func ctl(_ arguments: [String], _ daemon: DaemonHarness) throws -> CommandLineOutputTests.Output {
        try CommandLineOutputTests.ctl(arguments, socket: daemon.socket)
    }

    /// Starts OP-1 in hexi and closes it as unfounded (assess → stand down early → close).
    func closedOperation(_ daemon: DaemonHarness) throws {
        for arguments in [
            ["start", "armed-response", "--id", "OP-1", "--region", "hexi", "-a", "incident_type=armed_robbery", "-a", "priority=P2"],
            ["fire", "OP-1", "assess"], ["fire", "OP-1", "stand_down_early"], ["close", "OP-1", "unfounded"],
        ] {
            let result = try ctl(arguments, daemon)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
        }
    }

    @Test func aDissatisfiedRatingStartsARectificationInTheSameRegion() throws {
        let daemon = try DaemonHarness()
        try closedOperation(daemon)
        let open = try ctl(
            ["start", "armed-response", "--id", "OP-2", "--region", "heping", "-a", "incident_type=armed_robbery", "-a", "priority=P3"],
            daemon)
        #expect(open.status == 0)
        let tooEarly = try ctl(["rate", "OP-2", "--before", "4", "--during", "4", "--after", "4", "--score", "4"], daemon)
        #expect(tooEarly.status == 1)
        #expect(tooEarly.stderr.hasPrefix("refused: operation OP-2 is still reported; a rating is taken after it is closed.\n"))
        let noCategory = try ctl(["rate", "OP-1", "--before", "3", "--during", "2", "--after", "1", "--score", "2"], daemon)
        #expect(noCategory.status == 64)
        #expect(
            noCategory.stderr.contains(
                "a dissatisfied rating (score 1 or 2) needs the complaint category: attitude, efficiency, result or conduct"))
        let outOfRange = try ctl(["rate", "OP-1", "--before", "3", "--during", "9", "--after", "1", "--score", "2"], daemon)
        #expect(outOfRange.status == 1)
        #expect(outOfRange.stderr.contains("during is 9; every answer and the score run from 1 (very dissatisfied) to 5"))
        // Nothing was recorded by the refusals: no rectification exists yet.
        #expect(try ctl(["list"], daemon).stdout.contains("service-evaluation-followup") == false)
        let rated = try ctl(
            [
                "rate", "OP-1", "--before", "3", "--during", "2", "--after", "1", "--score", "2", "--category", "efficiency",
                "--comment", "nobody called back",
            ], daemon)
        #expect(rated.status == 0, "\(rated.stderr)")
        #expect(rated.stdout.hasPrefix("OP-1 rated 2/5; dissatisfied: rectification OP-"))
        #expect(rated.stdout.hasSuffix(" started in hexi\n"))
        let again = try ctl(["rate", "OP-1", "--before", "5", "--during", "5", "--after", "5", "--score", "5"], daemon)
        #expect(again.status == 1)
        // The engine's UTC time in the reason is shown as every other time is (local, how long ago).
        #expect(again.stderr.contains("was already rated at <time>"), "\(again.stderr)")
        // The rectification is a running service-evaluation-followup operation in hexi, with the rating's facts.
        let list = try daemon.call("io.jointops.Operations.List", ["region": .string("hexi")])
        let operations = list.parameters["operations"]?.arrayValue ?? []
        let rectification = try #require(operations.first { $0["workflow"] == .string("service-evaluation-followup") })
        let id = try #require(rectification["id"]?.stringValue)
        let shown = try daemon.call("io.jointops.Operations.Show", ["id": .string(id)]).operation
        let attributes = shown?["attributes"]
        #expect(attributes?["evaluation_id"] == .string("EV-OP-1"))
        #expect(attributes?["rating"] == .string("dissatisfied"))
        #expect(attributes?["complaint_category"] == .string("efficiency"))
        #expect(attributes?["service_channel"] == .string("emergency_call_110"))
        // The rating is in OP-1's audit trail, with who recorded it.
        let history = try daemon.call("io.jointops.Operations.History", ["id": .string("OP-1")]).parameters["events"]?.arrayValue ?? []
        let ratedEvent = try #require(history.last)
        #expect(ratedEvent["kind"] == .string("rated"))
        #expect(ratedEvent["description"] == .string("rated 2/5 (before 3, during 2, after 1): nobody called back"))
        // And in the period report.
        let report = try daemon.evaluate()
        #expect(report.error == nil, "\(report)")
        let figures = DaemonHarness.currentFigures(report)
        #expect(figures["operations.started"] == .int(3))
        #expect(figures["operations.closed"] == .int(1))
        #expect(figures["operations.open"] == .int(2))
        #expect(figures["ratings.count"] == .int(1))
        #expect(figures["ratings.dissatisfied"] == .int(1))
        #expect(figures["ratings.mean"] == .int(2))
        #expect(figures["deadline.assessment.compliance"] == .int(100))
        let hexi = try daemon.evaluate(["region": .string("heping")])
        let started = (hexi.parameters["figures"]?.arrayValue ?? []).first { $0["figure"] == .string("operations.started") }
        #expect(started?["current"] == .int(1))
        #expect(started?["previous"] == .int(0))
        #expect(started?["changePercent"] == .null)
    }

    @Test func theReportCommandPrintsTableCsvAndJsonAndRefusesBadPeriods() throws {
        let daemon = try DaemonHarness()
        try closedOperation(daemon)
        let csv = try ctl(["report", "--from", "2020-01-01", "--to", "2100-01-01", "--csv"], daemon)
        #expect(csv.status == 0, "\(csv.stderr)")
        let lines = csv.stdout.split(separator: "\n").map(String.init)
        #expect(
            Array(lines.prefix(5)) == [
                "figure,label,unit,current,previous,change_percent", "operations.started,operations started,count,1,0,",
                "operations.closed,operations closed,count,1,0,", "operations.cancelled,operations cancelled,count,0,0,",
                "operations.open,operations still open,count,0,0,",
            ])
        #expect(lines.contains("start_to_closed.count,start → closed: measured,count,1,0,"))
        #expect(lines.contains("deadline.assessment.compliance,deadline assessment met on time,percent,100,,"))
        let table = try ctl(["report", "--from", "2020-01-01", "--to", "2100-01-01", "--workflow", "armed-response"], daemon)
        #expect(table.status == 0)
        #expect(table.stdout.contains("FIGURE  THIS PERIOD  PREVIOUS  CHANGE\noperations started  1  0  -\n"))
        let json = try ctl(["report", "--from", "2020-01-01", "--to", "2100-01-01", "--json", "--priority", "P1"], daemon)
        #expect(json.status == 0)
        #expect(json.stdout.contains(#"{"changePercent":null,"current":0,"figure":"operations.started""#))
        // A local date is its local midnight in the offset of that day, summer time included.
        for (zone, from, to) in [
            ("America/New_York", "2026-07-01T04:00:00Z", "2026-12-01T05:00:00Z"),
            ("Europe/Berlin", "2026-06-30T22:00:00Z", "2026-11-30T23:00:00Z"),
            ("Asia/Shanghai", "2026-06-30T16:00:00Z", "2026-11-30T16:00:00Z"),
        ] {
            let period = try CommandLineOutputTests.ctl(
                ["report", "--from", "2026-07-01", "--to", "2026-12-01", "--json"], socket: daemon.socket, environment: ["TZ": zone])
            let reply = try JSONParser.parse(period.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            #expect(reply["from"]?.stringValue.flatMap(ISO8601.parse) == ISO8601.parse(from), "\(zone): \(period.stdout.prefix(120))")
            #expect(reply["to"]?.stringValue.flatMap(ISO8601.parse) == ISO8601.parse(to), "\(zone)")
        }
        let badFrom = try ctl(["report", "--from", "last tuesday"], daemon)
        #expect(badFrom.status == 64)
        #expect(badFrom.stderr.contains("--from 'last tuesday' is not a time: use 2026-11-01"))
        let backwards = try ctl(["report", "--from", "2026-11-02", "--to", "2026-11-01"], daemon)
        #expect(backwards.status == 64)
        #expect(backwards.stderr.contains("--from must be before --to"))
        let badPriority = try daemon.call(
            "io.jointops.Operations.Evaluate",
            ["from": .string("2026-11-01T00:00:00Z"), "to": .string("2026-11-02T00:00:00Z"), "priority": .string("high")])
        #expect(badPriority.error == "org.varlink.service.InvalidParameter")
        #expect(badPriority.parameters["parameter"] == .string("priority"))
        let badTime = try daemon.call(
            "io.jointops.Operations.Evaluate", ["from": .string("yesterday"), "to": .string("2026-11-02T00:00:00Z")])
        #expect(badTime.parameters["parameter"] == .string("from"))
    }

    /// Reproducer: "dispatch → all units assigned" left out, without a word, the branches
    /// that never got all their units.
    @Test func theReportCountsTheBranchesThatNeverHadAllTheirUnitsBesideTheTimeToAssign() throws {
        let (daemon, roster) = try UnitFillTests.daemon()
        defer { try? FileManager.default.removeItem(at: roster) }
        #expect(try UnitsTests.dispatch(daemon, "OP-A").error == nil)  // every branch full
        #expect(try UnitsTests.dispatch(daemon, "OP-B").error == nil)  // every branch short: public order, SWAT, traffic
        // OP-B goes first, so OP-A's units, released, never reach it.
        for id in ["OP-B", "OP-A"] { #expect(try ctl(["cancel", id, "duplicate"], daemon).status == 0) }
        let period = ["report", "--from", "2020-01-01", "--to", "2100-01-01"]
        let table = try ctl(period, daemon)
        #expect(
            table.stdout.contains(
                "dispatch → all units assigned: measured  3  0  -\ndispatch → all units assigned: never  3  0  -\ndispatch → all units assigned p50  0s  -  -\n"
            ), "\(table.stdout)")
        let json = try ctl(period + ["--json"], daemon)
        #expect(
            json.stdout.contains(
                #"{"changePercent":null,"current":3,"figure":"dispatch_to_assigned.never","label":"dispatch → all units assigned: never","previous":0,"unit":"count"}"#
            ), "\(json.stdout)")
    }
}
