import Foundation
import JointOpsProtocol
import Synchronization
import Testing

/// SIGTERM while clients keep connecting. A connection accepted once the daemon had begun to
/// stop was closed without its NIO channel wrapper being finished, and jointopsd crashed at
/// its release ("Deinited NIOAsyncWriter without calling finish()", signal 4) instead of
/// exiting 0: a `systemctl stop` or restart under load looked like a crash.
@Suite(.serialized) struct ShutdownRaceTests {

    @Test func aStopWhileClientsKeepConnectingExitsCleanly() throws {
        for round in 0..<12 {
            let daemon = try DaemonHarness(regions: nil)
            let stop = StopFlag()
            let connecting = Thread { [socket = daemon.socket] in
                while !stop.value.load(ordering: .relaxed) {
                    // Connect, send a call, hang up without reading: as a burst of clients would.
                    if let client = try? VarlinkClient(socketPath: socket, timeout: .milliseconds(200)) {
                        try? client.send(VarlinkCall(method: "org.varlink.service.GetInfo"))
                    }
                }
            }
            connecting.start()
            usleep(150_000)
            let status = daemon.stop()
            stop.value.store(true, ordering: .relaxed)
            #expect(status == 0, "round \(round): jointopsd exited \(status) on SIGTERM\n\(daemon.log.suffix(6000))")
            if status != 0 { return }
        }
    }
}
