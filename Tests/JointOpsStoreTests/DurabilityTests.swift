import Foundation
import Testing

@testable import JointOpsStore

/// The durability mode is what the writer connection really uses. GRDB turns WAL on after
/// a connection is prepared and sets synchronous=NORMAL as it does: a store asked for FULL
/// ran at NORMAL until this was caught (commits were not synced before they were acknowledged).
@Suite struct DurabilityTests {
    @Test(arguments: [(StoreOptions.Durability.full, 2), (.normal, 1)])
    func theWriterCommitsWithTheDurabilityAskedFor(_ durability: StoreOptions.Durability, _ pragma: Int) throws {
        let folder = try TemporaryFolder()
        let store = try EventStore(options: StoreOptions(path: folder.path("store.sqlite"), durability: durability))
        #expect(try store.writerSynchronous == pragma)
        try store.close()
        // Reopening an existing store sets it again.
        let reopened = try EventStore(options: StoreOptions(path: folder.path("store.sqlite"), durability: durability))
        #expect(try reopened.writerSynchronous == pragma)
        try reopened.close()
    }
}
