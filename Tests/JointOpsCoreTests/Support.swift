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
