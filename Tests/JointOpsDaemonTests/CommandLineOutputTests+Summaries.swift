import Foundation
import JointOpsCore
import Testing

extension CommandLineOutputTests {
    /// A command's summary line says what it did when the phase and the active branches do not.
    @Test func summaryLinesSayWhatTheCommandDid() throws {
        let daemon = try DaemonHarness(fastAssessment: true)
        #expect(try daemon.startArmed("OP-S").error == nil)
        for _ in 0..<100 where !daemon.overdue.contains(where: { $0["operation"] == .string("OP-S") }) { usleep(50_000) }
        func ctl(_ arguments: [String]) throws -> String {
            let result = try Self.ctl(arguments, socket: daemon.socket)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
            return result.stdout
        }
        #expect(
            try ctl(["acknowledge", "OP-S", "--deadline", "assessment"]) == "OP-S: escalation 1 (assessment) acknowledged; phase reported\n"
        )
        #expect(try ctl(["escalate", "OP-S", "need a helicopter"]) == "OP-S: escalation 2 opened; phase reported\n")
        #expect(try ctl(["acknowledge", "OP-S", "2"]) == "OP-S: escalation 2 (need a helicopter) acknowledged; phase reported\n")
        #expect(try ctl(["hold", "OP-S", "waiting for the negotiator"]) == "OP-S: on hold (waiting for the negotiator); phase reported\n")
        #expect(try ctl(["resume", "OP-S"]) == "OP-S: resumed; phase reported\n")
        _ = try ctl(["fire", "OP-S", "assess"])
        _ = try ctl(["fire", "OP-S", "dispatch"])
        #expect(
            try ctl(["advance", "OP-S", "swat", "on_scene"])
                == "OP-S: phase responding; public_order at dispatched, swat at on_scene, traffic at dispatched\n")
        _ = try ctl(["advance", "OP-S", "swat", "--outcome", "suspect_detained"])
        #expect(
            try ctl(["advance", "OP-S", "swat", "completed"])
                == "OP-S: swat completed; phase responding; public_order at dispatched, traffic at dispatched\n")
    }
}
