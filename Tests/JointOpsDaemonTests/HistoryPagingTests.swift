import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// `History` a page at a time. Reproducer: the roster's stream `@units` had 401,000 events
/// after a year; one `History` answered all of them, 91 MB, and jointopsd rose to 508 MB
/// writing it.
@Suite(.serialized) struct HistoryPagingTests {
    /// Every page of `id`'s trail in pages of `limit`, following `next` to the end.
    static func pages(_ daemon: DaemonHarness, _ id: String, limit: Int) throws -> [[JSONValue]] {
        var pages: [[JSONValue]] = []
        var after: JSONValue?
        repeat {
            var call: [String: JSONValue] = ["id": .string(id), "limit": .int(Int64(limit))]
            if let after { call["after"] = after }
            let reply = try daemon.call("io.jointops.Operations.History", call)
            #expect(reply.error == nil, "\(reply)")
            pages.append(items(reply.parameters["events"]))
            after = reply.parameters["next"]
            if let after { #expect(after == pages.last?.last?["operationSequence"], "next is the last event's operationSequence") }
        } while after != nil && pages.count < 1000
        return pages
    }

    /// `text` with the time column (and the blanks that pad it) as `<time> `.
    static func timeless(_ text: String) -> String {
        text.replacingOccurrences(of: #"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \([^)]*\) +"#, with: "<time> ", options: .regularExpression)
    }

    static func whole(_ daemon: DaemonHarness, _ id: String) throws -> [JSONValue] {
        let reply = try daemon.call("io.jointops.Operations.History", ["id": .string(id)])
        #expect(reply.error == nil && reply.parameters["next"] == nil, "\(reply)")
        return items(reply.parameters["events"])
    }

    /// An armed response dispatched, advanced, reinforced and noted: descriptions that need
    /// the operation as it stood (branch instances, steps, phases).
    static func busyOperation(_ daemon: DaemonHarness, _ id: String) throws {
        #expect(try daemon.startArmed(id).error == nil)
        for (method, parameters) in [
            ("Fire", ["event": JSONValue.string("assess")]), ("Fire", ["event": .string("dispatch")]),
            ("Advance", ["branch": .string("swat"), "step": .string("en_route")]),
            ("Reinforce", ["branch": .string("swat")]),
            ("Advance", ["branch": .string("swat#2"), "step": .string("en_route")]),
            ("Note", ["text": .string("perimeter holding")]),
            ("Advance", ["branch": .string("swat"), "step": .string("on_scene")]),
        ] {
            var call = parameters
            call["id"] = .string(id)
            let reply = try daemon.call("io.jointops.Operations.\(method)", call)
            #expect(reply.error == nil, "\(method): \(reply)")
        }
    }

    @Test func pagesOfAnOperationConcatenateToTheWholeTrailWithTheSameDescriptions() throws {
        let daemon = try DaemonHarness(configuration: "durability: normal\n")
        try Self.busyOperation(daemon, "OP-H1")
        let whole = try Self.whole(daemon, "OP-H1")
        #expect(whole.count > 12, "\(whole.count) events")
        #expect(whole.map { $0["operationSequence"]?.intValue } == (1...Int64(whole.count)).map { $0 }, "stream order")
        for limit in [1, 4, whole.count - 1, whole.count] {
            let pages = try Self.pages(daemon, "OP-H1", limit: limit)
            #expect(pages.flatMap { $0 } == whole, "pages of \(limit)")
            #expect(pages.dropLast().allSatisfy { $0.count == limit } && pages.last?.isEmpty == false, "pages of \(limit)")
        }
        // A late page alone: its descriptions (state-dependent: swat#2 exists only after the
        // reinforcement) are those of the whole trail, from a replay of the events before it.
        let late = try daemon.call("io.jointops.Operations.History", ["id": .string("OP-H1"), "after": .int(Int64(whole.count - 4))])
        #expect(items(late.parameters["events"]) == Array(whole.suffix(4)) && late.parameters["next"] == nil, "\(late)")
        #expect(whole.suffix(4).contains { $0["description"]?.stringValue?.contains("swat#2") == true }, "\(whole.suffix(4))")
        // Past the end: no events, no next; an event committed since is the next page's.
        let past = try daemon.call("io.jointops.Operations.History", ["id": .string("OP-H1"), "after": .int(Int64(whole.count))])
        #expect(past.error == nil && items(past.parameters["events"]).isEmpty && past.parameters["next"] == nil, "\(past)")
        #expect(try daemon.call("io.jointops.Operations.Note", ["id": .string("OP-H1"), "text": .string("later")]).error == nil)
        let since = try daemon.call("io.jointops.Operations.History", ["id": .string("OP-H1"), "after": .int(Int64(whole.count))])
        #expect(items(since.parameters["events"]).map { $0["description"] } == [.string("note: later")], "\(since)")
        daemon.stop()
    }

    @Test func pagesOfTheRosterStreamConcatenateToTheWholeTrail() throws {
        let daemon = try DaemonHarness(configuration: "durability: normal\n")
        for status in ["out_of_service", "available", "out_of_service", "available", "out_of_service"] {
            let reply = try daemon.call(
                "io.jointops.Units.SetStatus", ["id": .string("hx-jiansh-po-1"), "status": .string(status), "reason": .string("drill")])
            #expect(reply.error == nil, "\(reply)")
        }
        let whole = try Self.whole(daemon, "@units")
        #expect(whole.count >= 5 && whole.last?["description"] == .string("unit_status hx-jiansh-po-1 → out_of_service"))
        for limit in [1, 7, whole.count - 1] {
            let pages = try Self.pages(daemon, "@units", limit: limit)
            #expect(pages.flatMap { $0 } == whole, "pages of \(limit)")
            #expect(pages.dropLast().allSatisfy { $0.count == limit }, "pages of \(limit)")
        }
        daemon.stop()
    }

    @Test func aLimitOutOfRangeOrANegativeAfterIsRefusedNamingIt() throws {
        let daemon = try DaemonHarness(configuration: "durability: normal\n")
        #expect(try daemon.startArmed("OP-H2").error == nil)
        for (parameters, parameter, says) in [
            (["limit": JSONValue.int(0)], "limit", "0 is not between 1 and 10000"),
            (["limit": .int(10_001)], "limit", "10001 is not between 1 and 10000"),
            (["after": .int(-1)], "after", "-1 is negative"),
            (["after": .string("3")], "after", "must be an integer"),
        ] {
            var call = parameters
            call["id"] = .string("OP-H2")
            let reply = try daemon.call("io.jointops.Operations.History", call)
            #expect(reply.error == "org.varlink.service.InvalidParameter", "\(reply)")
            #expect(reply.parameters["parameter"] == .string(parameter))
            #expect(reply.parameters["description"]?.stringValue?.contains(says) == true, "\(reply)")
        }
        let missing = try daemon.call("io.jointops.Operations.History", ["id": .string("OP-GONE"), "limit": .int(5)])
        #expect(missing.error == "io.jointops.Operations.OperationNotFound", "\(missing)")
        daemon.stop()
    }

    /// The default prints the whole trail as one table, fetched a page (1000 events) at a
    /// time: the same text as one page of all of it; --json likewise one object.
    @Test func jointopsctlPrintsTheWholeTrailAcrossPagesAsBefore() throws {
        let daemon = try DaemonHarness(configuration: "durability: normal\n")
        #expect(try daemon.startArmed("OP-LONG").error == nil)
        let client = try daemon.client()
        for number in 1...1000 {
            let reply = try client.call("io.jointops.Operations.Note", ["id": .string("OP-LONG"), "text": .string("note \(number)")])
            if reply.error != nil { Issue.record("\(reply)") }
        }
        let pages = try Self.pages(daemon, "OP-LONG", limit: 1000)
        #expect(pages.count == 2, "a trail longer than one default page")
        let whole = try CommandLineOutputTests.ctl(["history", "OP-LONG"], socket: daemon.socket, raw: true)
        let onePage = try CommandLineOutputTests.ctl(["history", "OP-LONG", "--limit", "10000"], socket: daemon.socket, raw: true)
        #expect(whole.status == 0 && whole.stderr.isEmpty && onePage.stderr.isEmpty, "\(whole.stderr)\(onePage.stderr)")
        #expect(whole.stdout.split(separator: "\n").count == 1 + pages.joined().count)
        // Exactly, but for the time column ("3s ago" may be "4s ago" by the second command).
        #expect(Self.timeless(whole.stdout) == Self.timeless(onePage.stdout))
        #expect(whole.stdout.contains("\n1     2026-") && whole.stdout.hasSuffix("  root (admin)  note: note 1000\n"), "one table")
        let json = try CommandLineOutputTests.ctl(["history", "OP-LONG", "--json"], socket: daemon.socket, raw: true)
        let jsonPage = try CommandLineOutputTests.ctl(
            ["history", "OP-LONG", "--json", "--limit", "10000"], socket: daemon.socket, raw: true)
        #expect(json.stdout == jsonPage.stdout)
        #expect(try JSONParser.parse(json.stdout.trimmingCharacters(in: .newlines))["events"]?.arrayValue == pages.flatMap { $0 })
        daemon.stop()
    }

    /// --limit prints one page, and says on stderr (a pipe gets the table alone) how to go on;
    /// --json has the reply's `next` instead.
    @Test func jointopsctlSaysHowToGetTheNextPage() throws {
        let daemon = try DaemonHarness(configuration: "durability: normal\n")
        #expect(try daemon.startArmed("OP-H3").error == nil)  // 2 events: started, phase → reported
        #expect(try daemon.call("io.jointops.Operations.Note", ["id": .string("OP-H3"), "text": .string("third")]).error == nil)
        let first = try CommandLineOutputTests.ctl(["history", "OP-H3", "--limit", "2"], socket: daemon.socket)
        #expect(first.status == 0)
        #expect(first.stdout.split(separator: "\n").map { $0.prefix(3) } == ["#  ", "1  ", "2  "], "\(first.stdout)")
        #expect(first.stderr == "2 shown; there may be more: jointopsctl history OP-H3 --after 2 --limit 2\n")
        let second = try CommandLineOutputTests.ctl(["history", "OP-H3", "--after", "2", "--limit", "2"], socket: daemon.socket)
        #expect(second.status == 0 && second.stderr.isEmpty, "\(second.stderr)")
        #expect(second.stdout == "#  TIME  WHO  WHAT\n3  <time>  root (admin)  note: third\n")
        let rest = try CommandLineOutputTests.ctl(["history", "OP-H3", "--after", "1"], socket: daemon.socket)
        #expect(rest.stdout.split(separator: "\n").map { $0.prefix(3) } == ["#  ", "2  ", "3  "], "\(rest.stdout)")
        let json = try CommandLineOutputTests.ctl(["history", "OP-H3", "--limit", "2", "--json"], socket: daemon.socket)
        let reply = try JSONParser.parse(json.stdout.trimmingCharacters(in: .newlines))
        #expect(reply["next"] == .int(2) && reply["events"]?.arrayValue?.count == 2 && json.stderr.isEmpty, "\(json)")
        let refused = try CommandLineOutputTests.ctl(["history", "OP-H3", "--limit", "0"], socket: daemon.socket)
        #expect(refused.status == 64 && refused.stderr.contains("limit"), "\(refused)")
        daemon.stop()
    }
}
