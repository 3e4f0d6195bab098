import JointOpsCore
import JointOpsStore
import Logging
import ServiceLifecycle

/// Forgets replies to client request ids older than `request_retention_hours`, at start and
/// then every 10 minutes: kept for ever they were most of the database (a command's reply is
/// its operation's whole view, about 2 KB, where its event is a tenth of that).
struct RequestRetentionService: Service {
    let engine: OperationEngine
    let retentionHours: Int
    let logger: Logger
    /// Rows deleted per transaction, so that commands are not held up behind a long delete.
    static let chunk = 1000

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await forgetOld()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(600)) }
        }
    }

    func forgetOld() async {
        let store = engine.store
        let before = Instant(milliseconds: engine.clock().milliseconds - Int64(retentionHours) * 3_600_000)
        var forgotten = 0
        while !Task.isShuttingDownGracefully {
            switch await engine.awayFromEngine(
                .reads,
                { () throws(StoreError) in try store.forgetClientRequests(before: before, limit: Self.chunk)
                })
            {
            case .success(let count):
                forgotten += count
                guard count == Self.chunk else {
                    if forgotten > 0 { logger.info("forgot \(forgotten) replies to client request ids older than \(retentionHours) h") }
                    return
                }
                try? await Task.sleep(for: .milliseconds(10))
            case .failure(let error):
                // A storage fault is journalled by the commits it fails; try again next time.
                logger.debug("old client requests not forgotten: \(error.message)")
                return
            }
        }
    }
}
