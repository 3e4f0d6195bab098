import JointOpsProtocol
import Logging
import ServiceLifecycle
import UnixSignals

/// SIGHUP reloads the workflows and the jurisdiction, as `systemctl reload` (through
/// jointopsctl) does; the engine tells systemd `RELOADING=1` then `READY=1` around it.
struct ReloadOnHangup: Service {
    let engine: OperationEngine
    let workflowsDirectory: String
    let logger: Logger

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await withGracefulShutdownHandler {
            for await _ in hangups.cancelOnGracefulShutdown() {
                do {
                    _ = try await engine.reload(from: workflowsDirectory)
                } catch {
                    // The reload logged its problems, one by one; the error repeats them as JSON.
                    logger.error("SIGHUP reload failed; \(ReloadWording.kept) (the problems are logged above)")
                }
            }
        } onGracefulShutdown: {
        }
    }
}
