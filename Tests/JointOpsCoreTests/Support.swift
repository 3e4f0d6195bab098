import Foundation
import JointOpsCore
import Testing

/// Paths and loaders shared by the tests.
enum Repository {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let workflows = root.appendingPathComponent("Workflows")

    static func yamlFiles(in folder: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted().map { folder.appendingPathComponent($0) }
    }

    static func text(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

    /// Loads a workflow that must be valid, failing the test with its diagnostics otherwise.
    static func workflow(_ url: URL) throws -> Workflow {
        let result = WorkflowLoader.load(source: try text(url), file: url.lastPathComponent)
        guard let workflow = result.workflow else {
            let listing = result.diagnostics.map(\.description).joined(separator: "\n")
            Issue.record("\(url.lastPathComponent) is invalid:\n\(listing)")
            throw CancellationError()
        }
        return workflow
    }

    static func minimal() throws -> Workflow { try workflow(fixtures.appendingPathComponent("valid/minimal.yaml")) }
}

extension Instant {
    static let t0 = Instant(milliseconds: 1_795_910_400_000)  // 2026-11-29T08:00:00+08:00, a Sunday
    static func minutes(_ m: Int64) -> Instant { t0 + m * 60_000 }
}

/// A small deterministic random generator (SplitMix64), so property tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
