import Foundation
import JointOpsStore
import Testing

/// One store per database file: a second jointopsd on the same state directory is refused
/// (it used to start and serve next to the first: split brain), and the lock never
/// outlives its holder.
@Suite struct StoreLockTests {
    @Test func anotherProcessUsingTheFileIsRefusedWithItsPID() throws {
        #expect(FileManager.default.isExecutableFile(atPath: CrashTests.writer.path), "build jointops-bench first: swift build")
        let folder = try TemporaryFolder()
        let path = folder.path("store.sqlite")
        let process = Process()
        process.executableURL = CrashTests.writer
        process.arguments = ["crash-writer", path, Library.workflowsFolder.path, "1"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        // "ready" once its store is open.
        var said = Data()
        while !String(decoding: said, as: UTF8.self).contains("ready") {
            let more = output.fileHandleForReading.availableData
            try #require(!more.isEmpty, "the writer ended before opening its store")
            said += more
        }
        #expect {
            _ = try EventStore(options: StoreOptions(path: path))
        } throws: { error in
            guard let error = error as? StoreError else { return false }
            return error.kind == .locked
                && error.message
                    == "another jointopsd (PID \(process.processIdentifier)) is using \(folder.url.path); stop it first (systemctl stop jointopsd), or give this one its own --state-directory"
        }
        // Killed, it holds nothing: no stale lock to clean up by hand.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let store = try EventStore(options: StoreOptions(path: path))
        #expect(try store.verifyChain().isIntact)
        try store.close()
    }

    @Test func aSecondStoreInTheSameProcessIsRefusedUntilTheFirstCloses() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("store.sqlite")
        let first = try EventStore(options: StoreOptions(path: path))
        #expect {
            _ = try EventStore(options: StoreOptions(path: path))
        } throws: { error in
            guard let error = error as? StoreError else { return false }
            return error.kind == .locked
                && error.message == "this process (PID \(getpid())) already has \(path) open; close that store before opening it again"
        }
        // Another database in the same folder is another lock.
        let other = try EventStore(options: StoreOptions(path: folder.path("other.sqlite")))
        try other.close()
        try first.close()
        let again = try EventStore(options: StoreOptions(path: path))
        try again.close()
    }

    @Test func aStoreThatFailsToOpenLetsGoOfTheLock() throws {
        let folder = try TemporaryFolder()
        let path = folder.path("store.sqlite")
        try Data(repeating: 0x5A, count: 64 * 1024).write(to: URL(fileURLWithPath: path))
        let lock = StoreLockProbe(path + ".lock")
        #expect(throws: StoreError.self) { _ = try EventStore(options: StoreOptions(path: path)) }
        #expect(lock.isFree, "the lock is released when opening fails")
    }
}

/// Whether a `flock` on a file could be taken now, as another process would try it.
struct StoreLockProbe {
    let path: String
    init(_ path: String) { self.path = path }

    var isFree: Bool {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return true }
        defer { close(descriptor) }
        return flock(descriptor, LOCK_EX | LOCK_NB) == 0
    }
}
