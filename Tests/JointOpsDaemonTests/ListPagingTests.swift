import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// `List` a page at a time. Reproducer: `list --all` read every operation there had ever
/// been, inside the engine: with 100,000 closed ones it took 2.2 s, answered 26.6 MB, and
/// held every command meanwhile (a Note waited 1.0 s).
@Suite(.serialized) struct ListPagingTests {
    static func start(_ daemon: DaemonHarness, _ id: String, region: String = "hexi", priority: String = "P4") throws {
        let reply = try daemon.call(
            "io.jointops.Operations.Start",
            [
                "workflow": .string("public-assistance"), "region": .string(region), "id": .string(id),
                "attributes": .object(["request_type": .string("other"), "priority": .string(priority)]),
            ])
        #expect(reply.error == nil, "\(reply)")
    }

    static func cancel(_ daemon: DaemonHarness, _ id: String) throws {
        let reply = try daemon.call("io.jointops.Operations.Cancel", ["id": .string(id), "reason": .string("duplicate")])
        #expect(reply.error == nil, "\(reply)")
    }

    /// Every page of `parameters`, following `next` to the end: the ids of each.
    static func pages(_ daemon: DaemonHarness, _ parameters: [String: JSONValue]) throws -> [[String]] {
        var pages: [[String]] = []
        var before: String?
        repeat {
            var call = parameters
            if let before { call["before"] = .string(before) }
            let reply = try daemon.call("io.jointops.Operations.List", call)
            #expect(reply.error == nil, "\(reply)")
            pages.append(items(reply.parameters["operations"]).compactMap { $0["id"]?.stringValue })
            before = reply.parameters["next"]?.stringValue
        } while before != nil && pages.count < 100
        return pages
    }

    /// "start id" of each listed operation, the start always with milliseconds, so the
    /// texts sort as List orders them.
    static func keys(_ daemon: DaemonHarness, _ parameters: [String: JSONValue]) throws -> [String] {
        let reply = try daemon.call("io.jointops.Operations.List", parameters)
        return items(reply.parameters["operations"]).map { operation in
            let start = operation["startedAt"]?.stringValue ?? "?"
            return
                "\(start.contains(".") ? start : start.replacingOccurrences(of: "Z", with: ".000Z")) \(operation["id"]?.stringValue ?? "?")"
        }
    }

    @Test func pagesGiveEveryOperationOnceNewestFirstWhateverStartsOrEndsMeanwhile() throws {
        let daemon = try DaemonHarness(configuration: "durability: normal\n")
        // Ids out of start order, so the order is the start's, not the id's.
        let ids = (1...25).map { String(format: "OP-P%02d", ($0 * 7) % 25 + 1) }
        for id in ids { try Self.start(daemon, id) }
        for id in ids.enumerated().filter({ $0.offset % 3 != 0 }).map(\.element) { try Self.cancel(daemon, id) }
        let everything = try Self.pages(daemon, ["includeEnded": .bool(true)])
        #expect(everything.count == 1 && Set(everything[0]) == Set(ids) && everything[0].count == 25)
        // (Operations started in one millisecond are ordered by id.)
        let listed = try Self.keys(daemon, ["includeEnded": .bool(true)])
        #expect(listed == listed.sorted().reversed(), "by start, then id, newest first: \(listed)")
        #expect(listed.map { $0.split(separator: " ")[1] } == everything[0].map { Substring($0) })

        let paged = try Self.pages(daemon, ["includeEnded": .bool(true), "limit": .int(4)])
        #expect(paged.dropLast().allSatisfy { $0.count == 4 }, "\(paged)")
        #expect(paged.flatMap { $0 } == everything[0])
        let open = try Self.pages(daemon, ["limit": .int(3)])
        let openIDs = Set(ids.enumerated().filter { $0.offset % 3 == 0 }.map(\.element))
        #expect(open.flatMap { $0 } == everything[0].filter(openIDs.contains))
        #expect(open.count == 3, "9 open operations in pages of 3, the last without `next`: \(open)")

        // Between pages: an operation already shown ends, one not yet shown ends, a new one starts.
        let first = try daemon.call("io.jointops.Operations.List", ["includeEnded": .bool(true), "limit": .int(5)])
        let shown = items(first.parameters["operations"]).compactMap { $0["id"]?.stringValue }
        let openShown = try #require(shown.first(where: openIDs.contains), "\(shown)")
        let openNotShown = try #require(everything[0].last(where: openIDs.contains))
        #expect(!shown.contains(openNotShown))
        try Self.cancel(daemon, openShown)
        try Self.cancel(daemon, openNotShown)
        try Self.start(daemon, "OP-NEW")
        var rest = try Self.pages(
            daemon, ["includeEnded": .bool(true), "limit": .int(5), "before": first.parameters["next"] ?? .null])
        #expect((shown + rest.flatMap { $0 }) == everything[0], "each once, in order")
        rest = try Self.pages(daemon, ["includeEnded": .bool(true), "limit": .int(5)])
        #expect(rest.flatMap { $0 } == ["OP-NEW"] + everything[0])
        daemon.stop()
    }

    /// With filters few ended operations match, a call reads ten pages at most: the page is
    /// short (here empty) and `next` goes on from where the reading stopped, so a call costs
    /// the same however long ago the match was.
    @Test func aRareMatchAmongEndedOperationsIsReachedPageByPage() throws {
        let daemon = try DaemonHarness(configuration: "durability: normal\n")
        try Self.start(daemon, "OP-RARE", priority: "P1")
        try Self.cancel(daemon, "OP-RARE")
        for number in 1...45 {
            try Self.start(daemon, "OP-C\(number)")
            try Self.cancel(daemon, "OP-C\(number)")
        }
        try Self.start(daemon, "OP-OPEN-P1", priority: "P1")
        let pages = try Self.pages(daemon, ["includeEnded": .bool(true), "priority": .string("P1"), "limit": .int(2)])
        // 47 ended and open operations, 10 pages of 2 ended ones read per call: three calls.
        #expect(pages == [["OP-OPEN-P1"], [], ["OP-RARE"]], "\(pages)")
        let all = try Self.pages(daemon, ["includeEnded": .bool(true), "priority": .string("P1")])
        #expect(all == [["OP-OPEN-P1", "OP-RARE"]])
        daemon.stop()
    }

    @Test func aLimitOutOfRangeOrAnUnknownBeforeIsRefusedNamingIt() throws {
        let daemon = try DaemonHarness(configuration: "durability: normal\n")
        for (parameters, parameter, says) in [
            (["limit": JSONValue.int(0)], "limit", "0 is not between 1 and 10000"),
            (["limit": .int(10_001)], "limit", "10001 is not between 1 and 10000"),
            (["before": .string("OP-GONE")], "before", "there is no operation 'OP-GONE'"),
        ] {
            let reply = try daemon.call("io.jointops.Operations.List", parameters)
            #expect(reply.error == "org.varlink.service.InvalidParameter", "\(reply)")
            #expect(reply.parameters["parameter"] == .string(parameter))
            #expect(reply.parameters["description"]?.stringValue?.contains(says) == true, "\(reply)")
        }
        daemon.stop()
    }

    /// The table on stdout, the way on to the next page on stderr (a pipe gets the table alone).
    @Test func jointopsctlSaysHowToGetTheNextPage() throws {
        let daemon = try DaemonHarness(configuration: "durability: normal\n")
        for id in ["OP-A", "OP-B", "OP-C"] { try Self.start(daemon, id) }
        let first = try CommandLineOutputTests.ctl(["list", "--region", "hexi", "--limit", "2"], socket: daemon.socket)
        #expect(first.status == 0)
        #expect(first.stdout.contains("OP-C") && first.stdout.contains("OP-B") && !first.stdout.contains("OP-A"), "\(first.stdout)")
        #expect(first.stderr == "2 shown; there may be more: jointopsctl list --region hexi --limit 2 --before OP-B\n")
        let second = try CommandLineOutputTests.ctl(
            ["list", "--region", "hexi", "--limit", "2", "--before", "OP-B"], socket: daemon.socket)
        #expect(second.status == 0 && second.stderr.isEmpty, "\(second.stderr)")
        #expect(second.stdout.contains("OP-A") && !second.stdout.contains("OP-B"), "\(second.stdout)")
        daemon.stop()
    }
}
