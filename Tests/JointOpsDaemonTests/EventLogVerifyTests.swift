import Foundation
import GRDB
import JointOpsCore
import JointOpsProtocol
import Testing

@testable import JointOpsDaemon

/// A NOTIFY_SOCKET of the test's own, as systemd gives a service one: what jointopsd tells
/// systemd (`STATUS=` is what `systemctl status` shows at its head).
final class NotifyListener: @unchecked Sendable {
    let path = "/tmp/jointopsd-notify-\(getpid())-\(UUID().uuidString.prefix(6)).sock"
    private let descriptor: CInt

    init() throws {
        descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = path
        withUnsafeMutableBytes(of: &address.sun_path) { bytes in
            for (index, byte) in path.utf8.enumerated() { bytes[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard descriptor >= 0, bound == 0 else { throw HarnessError("cannot bind the notify socket: errno \(errno)") }
    }

    /// The first `STATUS=` text received from now on that `matching` accepts, waiting at most
    /// `seconds` (jointopsd sends its status every 5 s, and at once when something changes it).
    func status(within seconds: Double, _ matching: (String) -> Bool) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while Date() < deadline {
            var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 100) > 0 else { continue }
            let count = recv(descriptor, &buffer, buffer.count, 0)
            guard count > 0 else { continue }
            for line in String(decoding: buffer[..<count], as: UTF8.self).split(separator: "\n") where line.hasPrefix("STATUS=") {
                let status = String(line.dropFirst("STATUS=".count))
                if matching(status) { return status }
            }
        }
        return nil
    }

    deinit {
        close(descriptor)
        unlink(path)
    }
}

/// A break that `jointopsctl admin verify` finds is said where the administrator looks —
/// the journal at critical level and the head of `systemctl status` — not only on the
/// caller's terminal; an intact chain's head is journalled, whatever `log_level` says.
@Suite(.serialized) struct EventLogVerifyTests {
    /// Runs `sql` on the daemon's database behind its back, the append-only triggers dropped
    /// first (as `TamperTests.tamper` does to a closed store).
    static func tamper(_ daemon: DaemonHarness, _ sql: String) throws {
        let queue = try DatabaseQueue(path: daemon.folder.appendingPathComponent("state/jointops.sqlite").path)
        try queue.write { db in
            try db.execute(sql: "DROP TRIGGER IF EXISTS event_is_append_only_update; DROP TRIGGER IF EXISTS event_is_append_only_delete;")
            try db.execute(sql: sql)
        }
        try queue.close()
    }

    /// The daemon's log lines that contain `text`.
    static func lines(_ daemon: DaemonHarness, containing text: String) -> [Substring] {
        daemon.log.split(separator: "\n").filter { $0.contains(text) }
    }

    @Test func aBreakOutsideTheTailFoundByVerifyIsJournalledAndLeadsTheStatusUntilAVerifyFindsItIntact() throws {
        let notify = try NotifyListener()
        let daemon = try DaemonHarness(environment: ["NOTIFY_SOCKET": notify.path])
        try daemon.startArmed("OP-OLD")
        // Over 1,100 events: event 50 is long out of the last 1,000 that the start checks.
        let client = try daemon.client()
        for index in 1...1100 {
            let noted = try client.call("io.jointops.Operations.Note", ["id": .string("OP-OLD"), "text": .string("note \(index)")])
            try #require(noted.error == nil, "\(noted)")
        }
        let events = try #require(try daemon.call("io.jointops.Admin.Verify").parameters["eventsChecked"]?.intValue)
        try #require(events > 1050)
        daemon.stop()
        try Self.tamper(daemon, "UPDATE event SET at = at + 1 WHERE sequence = 50")
        try daemon.restart()
        // The start's own check looks at the tail alone: it finds nothing, and says the head.
        #expect(daemon.log.contains("event log head: sequence \(events), hash "), "\(daemon.log)")
        #expect(!daemon.log.contains("the event log is broken"), "\(daemon.log)")
        #expect(notify.status(within: 10) { $0.contains("open operation") && !$0.contains("BROKEN") } != nil)

        let verify = try daemon.call("io.jointops.Admin.Verify")
        #expect(verify.parameters["intact"] == .bool(false))
        #expect(verify.parameters["brokenAt"]?.intValue == 50)
        // The journal has it at critical level, once, with its MESSAGE_ID, and what to do.
        let found = Self.lines(daemon, containing: "jointopsctl admin verify found the event log broken at event 50: ")
        #expect(found.count == 1, "\(daemon.log)")
        for line in found {
            #expect(line.contains(" critical "), "\(line)")
            #expect(line.contains("message_id=\(JournalMessageID.eventLogBrokenByVerify)"), "\(line)")
            #expect(line.contains("its content does not match its hash: the row was edited (49 events before it verify)"), "\(line)")
            #expect(
                line.contains("Stop jointopsd (systemctl stop jointopsd.socket jointopsd), keep the database file and its -wal"), "\(line)")
            #expect(line.contains("restore the latest backup and verify it (docs/storage.md, \"Restore\")"), "\(line)")
        }
        // systemctl status leads with it (at once), and keeps it there at every status after.
        let broken = notify.status(within: 10) { $0.hasPrefix("EVENT LOG BROKEN") }
        #expect(broken?.hasPrefix("EVENT LOG BROKEN at event 50 (see the journal) — 1 open operation") == true, "\(broken ?? "none")")
        let later = notify.status(within: 10) { $0.contains("open operation") }
        #expect(later?.hasPrefix("EVENT LOG BROKEN at event 50") == true, "\(later ?? "none")")
        #expect(Self.lines(daemon, containing: "found the event log broken").count == 1, "once for the one verify")

        // Mended behind its back: the next verify finds the chain intact, says its head at
        // notice level, and the status no longer leads with the break.
        try Self.tamper(daemon, "UPDATE event SET at = at - 1 WHERE sequence = 50")
        let intactBefore = Self.lines(daemon, containing: "event log verified (jointopsctl admin verify): chain intact: ").count
        let intact = try daemon.call("io.jointops.Admin.Verify")
        #expect(intact.parameters["intact"] == .bool(true), "\(intact)")
        let head = try #require(intact.parameters["headHash"]?.stringValue)
        let said = Self.lines(
            daemon, containing: "event log verified (jointopsctl admin verify): chain intact: \(events) events, head \(head)")
        #expect(said.last?.contains(" notice ") == true, "\(daemon.log)")
        #expect(
            Self.lines(daemon, containing: "event log verified (jointopsctl admin verify): chain intact: ").count == intactBefore + 1,
            "one line for the one verify")
        let cleared = notify.status(within: 10) { !$0.hasPrefix("EVENT LOG BROKEN") }
        #expect(cleared?.hasPrefix("1 open operation") == true, "\(cleared ?? "none")")
    }

    /// docs/storage.md tells administrators to compare the head jointopsd logs at start, and
    /// each verify's, with the records they keep off the machine: `log_level: warning` keeps them.
    @Test func theHeadLinesAreLoggedAtLogLevelWarning() throws {
        let daemon = try DaemonHarness(configuration: "log_level: warning\n")
        try daemon.startArmed("OP-HEAD")
        let verify = try daemon.call("io.jointops.Admin.Verify")
        let hash = try #require(verify.parameters["headHash"]?.stringValue)
        let events = try #require(verify.parameters["eventsChecked"]?.intValue)
        #expect(
            daemon.log.contains("event log verified (jointopsctl admin verify): chain intact: \(events) events, head \(hash)"),
            "\(daemon.log)")
        try daemon.restart()
        #expect(daemon.log.contains("event log head: sequence \(events), hash \(hash)"), "\(daemon.log)")
        // The level holds for the rest: the info lines of a start are not there.
        #expect(!daemon.log.contains("listening on"), "\(daemon.log)")
    }
}
