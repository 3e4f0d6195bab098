import Foundation
import Glibc
import JointOpsCore
import JointOpsProtocol
import Testing

/// A watcher that reads, but more slowly than the daemon changes, is told `WatcherTooSlow`
/// once it falls `watch_buffer` changes behind — not closed in silence as one that stopped
/// reading altogether.
@Suite(.serialized) struct SlowWatcherTests {
    /// Reproducer: each write took everything the watcher had not taken, so a slow reader
    /// had hundreds of kilobytes in one write; that write waited longer than
    /// `stalled_message_ms` for the reader to make room, and the sweep closed the
    /// connection as if the client had stopped reading — without the error the issue asks for.
    @Test func aWatcherReadingSlowlyIsToldItIsTooSlow() throws {
        let daemon = try DaemonHarness(configuration: "stalled_message_ms: 5000\nwatch_buffer: 500\nwatch_interval_ms: 300\n")
        try daemon.startArmed("OP-SLOW-READER")
        let watcher = try daemon.watch()
        // The notes go out from another thread while the watcher reads 4 KiB every 50 ms
        // (80 KiB/s); each note is about 4.5 KB of replies, so the watcher falls behind
        // unless the machine writes fewer than 30 notes a second. Its socket makes room
        // some 160 KB at a time (every 2 s), within the stall limit.
        let sender = Thread {
            guard let commands = try? daemon.client() else { return }
            let text = String(repeating: "x", count: 2000)
            for _ in 0..<1500 {
                _ = try? commands.call("io.jointops.Operations.Note", ["id": .string("OP-SLOW-READER"), "text": .string(text)])
            }
        }
        sender.start()
        let received = Self.readSlowly(watcher.socketDescriptor, chunk: 4096, every: 50_000, atMost: 90)
        let log = daemon.log.split(separator: "\n").filter { $0.contains("watcher") || $0.contains("reading") }.joined(separator: "\n")
        let frames = received.split(separator: 0, omittingEmptySubsequences: true)
        let last = frames.last.flatMap { try? VarlinkReply(json: String(decoding: $0, as: UTF8.self)) }
        #expect(
            last?.error == "io.jointops.Operations.WatcherTooSlow",
            "the stream ended with \(String(describing: last)) after \(frames.count) replies (\(received.count) bytes); log: \(log)")
        #expect(!daemon.log.contains("stopped reading"), "the slow reader was closed as one that stopped reading: \(log)")
        #expect(log.contains("fell 500 changes behind"), "\(log)")
    }

    /// What the connection sends until a reply ends the stream (one without `continues`) or
    /// it closes, read `chunk` bytes at a time every `every` microseconds, for at most
    /// `atMost` seconds.
    static func readSlowly(_ descriptor: CInt, chunk: Int, every: useconds_t, atMost seconds: Double) -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: chunk)
        var replyStart = 0
        let until = Date().addingTimeInterval(seconds)
        while Date() < until {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, chunk, 0) }
            guard count > 0 else { break }
            received += buffer[..<count]
            while let end = received[replyStart...].firstIndex(of: 0) {
                // Stream replies are canonical JSON and begin {"continues":true.
                if !received[replyStart..<end].starts(with: Array(#"{"continues":true"#.utf8)) { return received }
                replyStart = end + 1
            }
            usleep(every)
        }
        return received
    }
}
