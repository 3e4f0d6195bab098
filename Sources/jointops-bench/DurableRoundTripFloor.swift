import Foundation

/// The floor under a durable command's round trip on this machine: a Unix-socket round trip
/// to a thread that writes one WAL frame (24 + 4,096 bytes) into a preallocated file and
/// `fdatasync`s it before answering. No SQLite, no JSON, no engine: what any daemon that
/// acknowledges only synced commands pays at least, on the disk of `folder`.
enum DurableRoundTripFloor {
    static func measure(in folder: URL, roundTrips: Int) throws -> (p50: Double, p99: Double) {
        let path = folder.appendingPathComponent("floor.wal").path
        let file = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard file >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer {
            close(file)
            unlink(path)
        }
        let frame = [UInt8](repeating: 0x78, count: 24 + 4096)
        let frames = 1000
        // Written and synced once, so later writes overwrite blocks, as a WAL in use does.
        for index in 0..<frames { _ = pwrite(file, frame, frame.count, off_t(index * frame.count)) }
        fsync(file)

        var sockets: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &sockets) == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        let (client, server) = (sockets[0], sockets[1])
        let done = DispatchSemaphore(value: 0)
        Thread {
            var request = [UInt8](repeating: 0, count: 256)
            var index = 0
            while read(server, &request, request.count) > 0 {
                _ = pwrite(file, frame, frame.count, off_t(index % frames * frame.count))
                fdatasync(file)
                index += 1
                _ = write(server, "ok", 2)
            }
            done.signal()
        }.start()
        let call = Array(#"{"method":"io.jointops.Operations.Note","parameters":{"id":"B-0","text":"floor"}}"#.utf8) + [0]
        var reply = [UInt8](repeating: 0, count: 256)
        var latencies: [Double] = []
        latencies.reserveCapacity(roundTrips)
        for _ in 0..<roundTrips {
            let began = DispatchTime.now().uptimeNanoseconds
            _ = write(client, call, call.count)
            _ = read(client, &reply, reply.count)
            latencies.append(Double(DispatchTime.now().uptimeNanoseconds - began) / 1e6)
        }
        close(client)
        done.wait()
        close(server)
        latencies.sort()
        return (latencies[latencies.count / 2], latencies[latencies.count * 99 / 100])
    }
}
