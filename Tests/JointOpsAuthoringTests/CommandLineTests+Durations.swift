import Foundation
import Testing

extension CommandLineTests {
    /// Reproducer: `within: 999999999999wd` crashed `jointopsctl workflow validate` (an
    /// arithmetic overflow), and many `1000000w` in a row did too; both are refused now (the
    /// second as a unit given more than once),
    /// each at its place. A message quotes at most 80 characters of the input.
    @Test func aDurationBeyondTheMaximumIsAnErrorNotACrash() throws {
        let folder = URL(fileURLWithPath: "/tmp").appendingPathComponent("jointops-durations-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = try String(
            contentsOf: Paths.root.appendingPathComponent("Tests/JointOpsCoreTests/Fixtures/valid/minimal.yaml"), encoding: .utf8)
        let many = String(repeating: "1000000w", count: 16)
        let edited =
            source
            .replacingOccurrences(of: "    within: 10m\n", with: "    within: 999999999999wd\n")
            .replacingOccurrences(of: "    within: 30m\n", with: "    within: \(many)\n")
        let file = folder.appendingPathComponent("w.yaml")
        try edited.write(to: file, atomically: true, encoding: .utf8)
        let output = try ctl("workflow", "validate", file.path)
        #expect(output.status == 1, "\(output.stderr)")
        #expect(output.stdout.contains("w.yaml:50:13: error: duration '999999999999wd' "), "\(output.stdout)")
        #expect(
            output.stdout.contains(
                "w.yaml:59:13: error: duration '\(many.prefix(80))…' for 'within' of deadline 'assessed' gives 'w' more than once: write each unit once, largest first, e.g. 1h30m"
            ),
            "\(output.stdout)")
        #expect(output.stdout.hasSuffix("1 file checked: 2 errors, 0 warnings\n"), "\(output.stdout)")
    }
}
