import Foundation
import JointOpsCore
import JointOpsStore
import Testing

/// Durations longer than 10 years are refused in workflow files now, but a store may hold a
/// version with one from before the limit: it still loads, so the store still opens.
@Suite struct LongDurationTests {
    @Test func aStoredVersionWithADurationBeyondTheMaximumStillLoads() throws {
        let folder = try TemporaryFolder()
        let source = try String(
            contentsOf: Library.root.appendingPathComponent("Tests/JointOpsCoreTests/Fixtures/valid/minimal.yaml"), encoding: .utf8
        ).replacingOccurrences(of: "    within: 10m\n", with: "    within: 1000000w\n")
        #expect(WorkflowLoader.load(source: source, file: "w.yaml").workflow == nil, "refused in a file")
        let workflow = try #require(WorkflowLoader.load(source: source, file: "w.yaml", appliesLaterLimits: false).workflow)
        let path = folder.path("store.sqlite")
        var store = try EventStore(options: StoreOptions(path: path))
        try store.register(workflow, source: source, at: Instant(milliseconds: 0))
        try store.close()
        store = try EventStore(options: StoreOptions(path: path))
        #expect(try store.workflows().map(\.id) == ["street-robbery"])
        try store.close()
    }
}
