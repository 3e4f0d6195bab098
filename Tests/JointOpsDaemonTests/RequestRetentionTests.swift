import Foundation
import JointOpsCore
import JointOpsProtocol
import Testing

/// Replies kept for retries are forgotten after `request_retention_hours`.
@Suite(.serialized) struct RequestRetentionTests {
    /// Runs SQL on the daemon's database with Python's sqlite3; prints the first column of
    /// the first row, if any.
    static func sql(_ database: String, _ statement: String) throws -> String {
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = [
            "python3", "-c",
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); r=c.execute(sys.argv[2]).fetchone(); c.commit(); print(r[0] if r else '')",
            database, statement,
        ]
        let output = Pipe()
        python.standardOutput = output
        try python.run()
        python.waitUntilExit()
        return String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(
            in: .whitespacesAndNewlines)
    }

    /// Reproducer: the table of replies was never pruned — 88 % of the database after a
    /// 24-minute soak, 3.5 KB on disk for every command, for ever.
    @Test func repliesOlderThanTheRetentionAreForgottenAndTheirRetriesApplyAgain() throws {
        let daemon = try DaemonHarness(configuration: "request_retention_hours: 1\n")
        try daemon.startArmed("OP-RR")
        for id in ["old-1", "new-1"] {
            let reply = try daemon.call(
                "io.jointops.Operations.Note", ["id": .string("OP-RR"), "text": .string(id), "requestId": .string(id)])
            #expect(reply.error == nil, "\(reply)")
        }
        daemon.stop()
        let database = daemon.folder.appendingPathComponent("state/jointops.sqlite").path
        _ = try Self.sql(database, "UPDATE client_request SET at = at - 2 * 3600 * 1000 WHERE id = 'old-1'")
        try daemon.restart()
        var left = try Self.sql(database, "SELECT group_concat(id) FROM client_request WHERE id IN ('old-1', 'new-1')")
        for _ in 0..<100 where left != "new-1" {
            usleep(50_000)
            left = try Self.sql(database, "SELECT group_concat(id) FROM client_request WHERE id IN ('old-1', 'new-1')")
        }
        #expect(left == "new-1", "the reply over an hour old is forgotten, the newer one kept")
        #expect(daemon.log.contains("forgot 1 replies to client request ids older than 1 h"), "\(daemon.log)")
        for id in ["old-1", "new-1"] {
            _ = try daemon.call("io.jointops.Operations.Note", ["id": .string("OP-RR"), "text": .string(id), "requestId": .string(id)])
        }
        let notes = items(try daemon.call("io.jointops.Operations.History", ["id": .string("OP-RR")]).parameters["events"])
            .filter { $0["kind"] == .string("noted") }.compactMap { $0["description"]?.stringValue }
        #expect(notes.count == 3, "old-1 applied again, new-1 answered from its first reply: \(notes)")
        daemon.stop()
    }
}
