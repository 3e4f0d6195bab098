import Foundation
import JointOpsCore
import JointOpsStore
import Testing

/// A child process appends under load and reports each acknowledged command on a pipe; the
/// test `kill -9`s it at seeded random moments, 50 times, and after each kill checks that
/// every acknowledged command is in the store, the chain verifies, and the projection
/// equals the replay. Reproduce a failure with the same seed.
@Suite struct CrashTests {
    static let seed: UInt64 = 20_261_129
    static let kills = 50

    static let writer = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("jointops-bench")

    @Test func everyAcknowledgedCommandSurvivesKillNine() throws {
        #expect(FileManager.default.isExecutableFile(atPath: Self.writer.path), "build jointops-bench first: swift build")
        let folder = try TemporaryFolder()
        let path = folder.path("store.sqlite")
        var random = SplitMix64(seed: Self.seed)
        var acknowledgedTotal = 0
        var operations: Set<String> = []
        for run in 1...Self.kills {
            let delay = 40 + Int(random.next() % 360)
            let acks = try Self.runAndKill(store: path, run: run, afterMilliseconds: delay)
            acknowledgedTotal += acks.count
            let store = try EventStore(options: StoreOptions(path: path))
            var latest: [String: Int] = [:]
            for (operation, sequence) in acks { latest[operation] = max(latest[operation] ?? 0, sequence) }
            for (operation, sequence) in latest {
                let stored = try store.events(of: operation).count
                #expect(
                    stored >= sequence,
                    "run \(run) (seed \(Self.seed), kill after \(delay) ms): \(operation) acknowledged \(sequence) events, \(stored) stored"
                )
                operations.insert(operation)
            }
            let chain = try store.verifyChain()
            #expect(chain.isIntact, "run \(run): \(chain)")
            let projection = Dictionary(uniqueKeysWithValues: try store.allOperations().map { ($0.id, $0) })
            for operation in latest.keys.sorted().prefix(20) {
                #expect(projection[operation] == (try store.replay(operation)), "run \(run): \(operation) projection differs from replay")
            }
            try store.close()
        }
        #expect(acknowledgedTotal > 1000, "the writer barely wrote: \(acknowledgedTotal) acknowledgements in \(Self.kills) runs")
        let store = try EventStore(options: StoreOptions(path: path))
        for operation in try store.allOperations() { #expect(try store.replay(operation.id) == operation) }
        try store.close()
    }

    /// Starts the writer, kills it with SIGKILL after `delay` ms, and returns its acknowledgements.
    static func runAndKill(store: String, run: Int, afterMilliseconds delay: Int) throws -> [(String, Int)] {
        let process = Process()
        process.executableURL = writer
        process.arguments = ["crash-writer", store, Library.workflowsFolder.path, String(run)]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let reader = PipeReader(output.fileHandleForReading)
        usleep(useconds_t(delay * 1000))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(
            process.terminationReason == .uncaughtSignal, "run \(run): the writer ended by itself (status \(process.terminationStatus))")
        return reader.finish().split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count == 3, parts[0] == "ack", let sequence = Int(parts[2]) else { return nil }
            return (String(parts[1]), sequence)
        }
    }
}

/// Reads a pipe to its end on a thread of its own, so the writer never blocks on a full pipe.
final class PipeReader: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func finish() -> String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}
