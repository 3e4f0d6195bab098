import Foundation
import JointOpsCore
import JointOpsProtocol

/// What jointopsd does with the clients waiting in systemd's socket when it cannot start for
/// a reason a restart cannot mend (it exits 78 or 64).
///
/// Left in the socket's queue, a waiting connection makes systemd start the service again at
/// once, and again (under systemd's default start limit, until it failed the service and the
/// socket with it, `service-start-limit-hit`; the unit now sets none, so for ever); its
/// client only learns that the connection closed. So each
/// connection already waiting is accepted, its call read if it comes at once, and answered
/// with `io.jointops.Operations.DaemonCannotStart` — the reason and what to do — then closed.
/// Bounded: at most `limit` connections, within `budget` in all.
public enum StartRefusal {
    public static let errorName = "io.jointops.Operations.DaemonCannotStart"

    /// What an administrator does after correcting the cause: a client's connection may have
    /// started the service again meanwhile (and with a start limit set in a drop-in, several
    /// may have run it into that limit).
    public static let restartAdvice = "systemctl reset-failed jointopsd jointopsd.socket; systemctl restart jointopsd"

    /// The reply: the first of `problems` (with its place, FILE:LINE:COLUMN, when it has one),
    /// the file at fault, how many problems there are, and what to do (`fix`, or the usual).
    public static func error(problems: [String], file: String? = nil, fix: String? = nil) -> VarlinkError {
        let reason = problems.first ?? "unknown"
        let fix = fix ?? "Fix it, then: \(restartAdvice) (journalctl -u jointopsd -p err lists every problem)"
        var parameters: [String: JSONValue] = [
            "reason": .string(reason), "problems": .int(Int64(max(1, problems.count))), "fix": .string(fix),
        ]
        parameters["file"] = (file ?? Self.file(of: reason)).map { .string($0) } ?? .null
        return VarlinkError(errorName, parameters)
    }

    /// FILE of a problem said as `FILE:LINE:COLUMN: error: …`, if it is.
    static func file(of problem: String) -> String? {
        guard let marker = problem.range(of: ": error: ") else { return nil }
        let place = problem[..<marker.lowerBound].split(separator: ":", omittingEmptySubsequences: false)
        guard place.count >= 3, place.suffix(2).allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isNumber) }) else { return nil }
        return place.dropLast(2).joined(separator: ":")
    }

    /// Answers the connections waiting on `listener` (by default the control socket systemd
    /// passed; none when run by hand) with `error`, and closes them; returns how many.
    @discardableResult
    public static func answerWaiting(
        with error: VarlinkError, on listener: CInt? = Systemd.listeningDescriptor(named: "control"), limit: Int = 256,
        budget: Duration = .seconds(1)
    ) -> Int {
        guard let listener else { return 0 }
        // Only those waiting now: an accept that would block means none is left.
        let flags = fcntl(listener, F_GETFL)
        guard flags >= 0, fcntl(listener, F_SETFL, flags | O_NONBLOCK) == 0 else { return 0 }
        let reply = VarlinkReply(error).jsonBytes + [0]
        let clock = ContinuousClock()
        let deadline = clock.now + budget
        var answered = 0
        var request = [UInt8](repeating: 0, count: 65_536)
        while answered < limit, clock.now < deadline {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else {
                if errno == EINTR || errno == ECONNABORTED { continue }
                break
            }
            _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
            // Its call, when it is there or comes within a moment: read, so the reply is the
            // answer to it (a client reads it even if it is answered first: VarlinkClient.call).
            let left = deadline - clock.now
            let wait = min(left, .milliseconds(100))
            var entry = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(max(0, wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000))
            if poll(&entry, 1, milliseconds) > 0 { _ = recv(connection, &request, request.count, Int32(MSG_DONTWAIT)) }
            _ = reply.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            close(connection)
            answered += 1
        }
        return answered
    }
}
