import Foundation
import JointOpsCore
import JointOpsProtocol
import Synchronization
import Testing

/// A preemption that races a dispatch of the same operation: the dispatch has committed its
/// units to the roster, for a branch instance its operation does not have until its commit
/// returns. Reproducer (a concurrency audit): `Units.Preempt` of one of those units for the
/// same operation read that instance's name out of range and crashed jointopsd (any caller
/// with the operate role could stop it).
@Suite(.serialized) struct UnitPreemptRaceTests {
    static let workflow = """
        workflow: race-units
        version: 1
        title: {en: Race units}
        attributes:
          priority: {type: priority, required: true}
        phases:
          reported:
            initial: true
            on: {dispatch: in_action}
          in_action:
            dispatch:
              - branch: swat
            on: {wrap: reviewing}
          reviewing: {}
        branches:
          swat:
            kind: swat
            units: 2
            capabilities: [armed]
            steps:
              dispatched: {initial: true, next: [on_scene, completed, stood_down]}
              on_scene: {unit_status: on_scene, next: [completed, stood_down]}
              completed: {end: completed}
              stood_down: {end: stood_down}
        hold: {allowed: true, clock: pause}
        reinforce: [swat]
        cancel: {reasons: [other]}
        close: {from: [reviewing, in_action], dispositions: [resolved]}

        """

    /// Rounds of one Reinforce and, at the same moment, five preemptions of Hexi's SWAT teams
    /// for the same operation (before the fix the daemon crashed within the first few rounds;
    /// a race, so a round may miss the window, but 40 did not). Each preemption is answered,
    /// and the daemon stays up.
    @Test func aPreemptionRacingADispatchOfTheSameOperationIsRefusedNotACrash() throws {
        let workflows = try UnitsTests.folder(["race-units.yaml": Self.workflow])
        defer { try? FileManager.default.removeItem(at: workflows) }
        let daemon = try DaemonHarness(workflows: workflows.path)
        let started = try daemon.call(
            "io.jointops.Operations.Start",
            [
                "workflow": .string("race-units"), "region": .string("hexi"), "id": .string("RACE-1"),
                "attributes": .object(["priority": .string("P1")]),
            ])
        #expect(started.error == nil, "\(started)")
        #expect(try daemon.call("io.jointops.Operations.Fire", ["id": .string("RACE-1"), "event": .string("dispatch")]).error == nil)
        let units = (1...5).map { "hx-swat-0\($0)" }
        for round in 0..<40 {
            let clients = try (0...units.count).map { _ in try daemon.client() }
            let replies = Mutex<[Int: VarlinkReply]>([:])
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: clients.count) { index in
                do {
                    if index == 0 {
                        try clients[0].send(
                            VarlinkCall(
                                method: "io.jointops.Operations.Reinforce",
                                parameters: ["id": .string("RACE-1"), "branch": .string("swat")]))
                    } else {
                        usleep(UInt32(300 * index))
                        try clients[index].send(
                            VarlinkCall(
                                method: "io.jointops.Units.Preempt",
                                parameters: [
                                    "id": .string(units[index - 1]), "operation": .string("RACE-1"), "instance": .string("swat"),
                                    "reason": .string("race"),
                                ]))
                    }
                    let reply = try clients[index].receive()
                    replies.withLock { $0[index] = reply }
                } catch {
                    failures.withLock { $0.append("call \(index): \(error)") }
                }
            }
            let lost = failures.withLock { $0 }
            #expect(lost.isEmpty, "round \(round): calls without an answer (did jointopsd crash?): \(lost)\n\(daemon.log.suffix(1500))")
            guard lost.isEmpty else { return }
            for (index, reply) in replies.withLock({ $0 }) where index > 0 {
                // Refused (already serves RACE-1, or not committed) or applied: either way answered.
                #expect(reply.error == nil || reply.error == "io.jointops.Units.UnitRefused", "round \(round): \(reply)")
            }
            // Release the reinforcement's units for the next round.
            if let reinforced = replies.withLock({ $0[0] })?.operation {
                for branch in UnitsTests.items(reinforced["branches"]).dropFirst() where branch["status"] == .string("active") {
                    _ = try daemon.call(
                        "io.jointops.Operations.Advance",
                        ["id": .string("RACE-1"), "branch": branch["instance"] ?? .null, "step": .string("completed")])
                }
            }
        }
    }
}
