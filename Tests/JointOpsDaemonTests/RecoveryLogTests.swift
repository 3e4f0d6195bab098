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
}
