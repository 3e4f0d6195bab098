import JointOpsCore
import Testing

@testable import JointOpsDaemon
@testable import JointOpsStore

/// A close or cancel brings its operation's history, replayed away from the engine, so the
/// writer inserts the report facts without replaying the log inside the transaction every
/// command waits for (an operation of 50,000 events held every command 0.3 s at its close).
@Suite struct EndingFactsAheadTests {
    static let robbery = ["priority": "P2", "incident_type": "robbery"]

    @Test func closesAndCancelsWriteTheirFactsWithoutAReplayInTheTransaction() async throws {
        let harness = try EngineHarness(workflows: [try EngineHarness.minimalWorkflow])
        for id in ["OP-1", "OP-2"] {
            try await harness.start(id, workflow: "street-robbery", attributes: Self.robbery)
            harness.clock.move(by: 60_000)
            try await harness.run(.fire(event: "assess"), on: id)
            try await harness.run(.fire(event: "dispatch"), on: id)
            for note in 1...20 { try await harness.run(.note("update \(note)"), on: id) }
        }
        try await harness.run(.advance(branch: "patrol", to: "on_scene", outcome: nil), on: "OP-1")
        try await harness.run(.advance(branch: "patrol", to: nil, outcome: "handled"), on: "OP-1")
        try await harness.run(.close(disposition: "resolved"), on: "OP-1")
        try await harness.run(.cancel(reason: "false_alarm"), on: "OP-2")
        let report = try harness.store.figures(from: Instant.t0 + -3_600_000, to: Instant.t0 + 3_600_000, filter: ReportFilter())
        #expect((report.closed, report.cancelled) == (1, 1), "both ended operations' facts are stored")
        #expect(report.intervals[.dispatchToScene]?.total == 1)
        #expect(harness.store.factsReplayedInTransactions.load(ordering: .relaxed) == 0, "the writer replayed a log")
    }
}
