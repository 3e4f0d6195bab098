import Foundation
import JointOpsProtocol

/// Closed-loop load from one thread: every connection has one note in flight and sends the
/// next as soon as its reply is in. One thread waiting in `poll` for all of them takes far
/// less of a 2-core machine than a blocked thread per connection (each reply would wake
/// its own thread), so the daemon's figure is less its load generator's.
enum MultiplexedLoad {
    /// Notes answered per second on `connections` connections (operations B-0 …) over
    /// `seconds`; a reply that is not a result (an error) stops the benchmark.
    static func notesPerSecond(socket: String, connections: Int, seconds: Double) throws -> Double {
        let clients = try (0..<connections).map { _ in try VarlinkClient(socketPath: socket) }
        let calls = (0..<connections).map { DaemonBenchmark.Note.call(operation: "B-\($0 % 64)", text: "load") }
        var watched = clients.map { pollfd(fd: $0.socketDescriptor, events: Int16(POLLIN), revents: 0) }
        var replies = [NoteReplies](repeating: NoteReplies(), count: connections)
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var answered = 0
        let start = DispatchTime.now().uptimeNanoseconds
        let end = start + UInt64(seconds * 1e9)
        for (index, client) in clients.enumerated() { try send(calls[index], on: client.socketDescriptor) }
        while DispatchTime.now().uptimeNanoseconds < end {
            let ready = poll(&watched, nfds_t(watched.count), 100)
            guard ready >= 0 else {
                if errno == EINTR { continue }
                throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
            }
            for index in watched.indices where watched[index].revents != 0 {
                let descriptor = watched[index].fd
                let count = read(descriptor, &buffer, buffer.count)
                guard count > 0 else { throw VarlinkClient.Failure.disconnected }
                let complete = try replies[index].scan(buffer[0..<count])
                for _ in 0..<complete {
                    answered += 1
                    try send(calls[index], on: descriptor)
                }
            }
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        withExtendedLifetime(clients) {}
        return Double(answered) / elapsed
    }

    static func send(_ bytes: [UInt8], on descriptor: Int32) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            sent += count
        }
    }
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One connection's replies to notes as their bytes arrive: each counted when its NUL comes,
/// once its beginning shows a result (`{"parameters":`), not an error.
struct NoteReplies {
    private static let result = Array(#"{"parameters":"#.utf8)
    /// The beginning of the reply under way (as much as is compared).
    private var beginning: [UInt8] = []

    /// How many replies `bytes` completed; an error reply stops the benchmark.
    mutating func scan(_ bytes: ArraySlice<UInt8>) throws -> Int {
        var complete = 0
        for byte in bytes {
            if byte == 0 {
                guard beginning.starts(with: Self.result) else {
                    throw BenchmarkFailure("a note was refused: \(String(decoding: beginning, as: UTF8.self))")
                }
                beginning.removeAll(keepingCapacity: true)
                complete += 1
            } else if beginning.count < Self.result.count {
                beginning.append(byte)
            }
        }
        return complete
    }
}
