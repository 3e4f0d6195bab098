import Dispatch
import JointOpsStore
import Logging
import Synchronization

/// The journal's account of a storage fault: its first failure in full, then at most one
/// line every 30 s while it lasts (the counts, the last error), and one when the store takes
/// writes again — not one error line per failed command (290 in 30 s on a full disk).
final class StoreFaultLog: Sendable {
    private let logger: Logger
    /// Uptime (ns) of the last line logged for the fault under way.
    private let lastLine = Mutex<UInt64>(0)
    private static let every: UInt64 = 30_000_000_000

    init(logger: Logger) { self.logger = logger }

    /// Hears `GroupCommitter`'s fault reports (on the writer's thread); true when it wrote a
    /// line (the fault began, ended, or 30 s passed): watchers are told then too.
    @discardableResult
    func heard(_ fault: GroupCommitter.Fault) -> Bool {
        let metadata: Logger.Metadata = ["message_id": "\(JournalMessageID.storageFault)"]
        if let ended = fault.ended {
            lastLine.withLock { $0 = 0 }
            logger.notice(
                "the store takes writes again (\(ended)): \(fault.failedCommands) command\(fault.failedCommands == 1 ? "" : "s") failed since \(fault.since), none of them applied; acknowledged events are intact",
                metadata: metadata)
            return true
        }
        let now = DispatchTime.now().uptimeNanoseconds
        let due = lastLine.withLock { last -> Bool in
            guard fault.failedTransactions == 1 || now - last >= Self.every else { return false }
            last = now
            return true
        }
        guard due else { return false }
        let still = fault.failedTransactions == 1 ? "" : "still failing since \(fault.since) (\(fault.failedCommands) commands so far): "
        logger.error("storage fault: \(still)\(fault.lastError)", metadata: metadata)
        return true
    }

    /// Hears a transaction the database refused (`GroupCommitter`'s `onRefused`): a change
    /// that broke one of its constraints, which is no storage fault, so `heard` never sees
    /// it. One line for the transaction: the operation whose change was refused, SQLite's
    /// message, and how many commands it failed (the refused one; all of the transaction's
    /// when the change it refused is not known, as for a roster change).
    func refused(_ error: StoreError, commands: Int) {
        var metadata: Logger.Metadata = ["message_id": "\(JournalMessageID.storageFault)"]
        if let operation = error.operation { metadata["operation"] = "\(operation)" }
        let others = commands == 1 ? "" : " (and the \(commands - 1) other command\(commands == 2 ? "" : "s") in its transaction)"
        logger.error(
            "\(error.operation.map { "\($0): " } ?? "")a command\(others) was not applied: \(error.message)", metadata: metadata)
    }
}
