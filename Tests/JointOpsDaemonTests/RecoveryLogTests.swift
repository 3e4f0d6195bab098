import Foundation
import Testing

/// What jointopsd says about the operations it recovered at start.
@Suite struct RecoveryLogTests {
    /// Reproducer: one open operation was logged as "recovered 1 open operations".
    @Test func oneRecoveredOperationIsCountedInTheSingular() throws {
        let daemon = try DaemonHarness()
        try daemon.startArmed("OP-ONE")
        try daemon.restart()
        daemon.stop()
        #expect(daemon.log.contains("recovered 0 open operations, 0 armed timers"), "\(daemon.log)")
        #expect(daemon.log.contains("recovered 1 open operation, "), "\(daemon.log)")
        #expect(!daemon.log.contains("1 open operations"), "\(daemon.log)")
    }

    /// A scale audit: a 3.8 GB store took 8.5 s to start, 6.6 s of it its integrity check,
    /// and the journal did not say where the time went.
    @Test func theJournalSaysHowLongTheStoreTookToOpenAndToRecover() throws {
        let daemon = try DaemonHarness()
        daemon.stop()
        let line = daemon.log.split(separator: "\n").first { $0.contains("recovered 0 open operations") } ?? ""
        #expect(line.contains("store opened, checked (quick_check) and migrated in 0."), "\(line)")
        #expect(line.contains(" (0 overdue) in 0."), "\(line)")
    }
}
