import Foundation
import Testing

/// `jointopsctl workflow …` as an author runs it: exact output and exit codes.
@Suite struct CommandLineTests {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// The built `jointopsctl`, next to this test bundle.
    static let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("jointopsctl")

    static func run(_ executable: URL, _ arguments: [String], stdin: Data? = nil) throws -> Output {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = Paths.root
        let out = Pipe()
        let err = Pipe()
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    func ctl(_ arguments: String...) throws -> Output {
        #expect(FileManager.default.isExecutableFile(atPath: Self.executable.path), "build jointopsctl first: swift build")
        return try Self.run(Self.executable, arguments)
    }

    @Test func validatingTheShippedWorkflowsIsClean() throws {
        let output = try ctl("workflow", "validate", "Workflows/")
        #expect(output.status == 0)
        #expect(output.stdout.hasSuffix("files checked: 0 errors, 0 warnings\n"))
        #expect(output.stdout.contains("Workflows/armed-response.yaml: ok (armed-response v"))
    }

    @Test func validatingAgainstAJurisdictionChecksTheDispatchRegions() throws {
        let clean = try ctl("workflow", "validate", "--regions", "Regions/tianjin.yaml", "Workflows/")
        #expect(clean.status == 0, "\(clean.stdout)")
        let folder = URL(fileURLWithPath: "/tmp").appendingPathComponent("jointops-validate-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = try String(contentsOf: Paths.root.appendingPathComponent("Workflows/armed-response.yaml"), encoding: .utf8)
        let file = folder.appendingPathComponent("armed-response.yaml")
        try source.replacingOccurrences(of: "region: tj-traffic-command", with: "region: tj-trafic-command").write(
            to: file, atomically: true, encoding: .utf8)
        let broken = try ctl("workflow", "validate", "--regions", "Regions/tianjin.yaml", file.path)
        #expect(broken.status == 1)
        #expect(
            broken.stdout.contains(
                "armed-response.yaml:67:17: error: phase 'responding' dispatches branch 'traffic' to unknown region 'tj-trafic-command'; did you mean 'tj-traffic-command'?"
            ), "\(broken.stdout)")
        #expect(broken.stdout.contains("armed-response.yaml:94:17: error: phase 'pursuit' dispatches branch 'traffic'"), "\(broken.stdout)")
    }

    @Test func aFolderIsReadAsTheDaemonReadsIt() throws {
        let folder = URL(fileURLWithPath: "/tmp").appendingPathComponent("jointops-validate-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(
            at: Paths.root.appendingPathComponent("Workflows/armed-response.yaml"), to: folder.appendingPathComponent("armed-response.yaml")
        )
        // An editor's hidden backup is not a workflow; a file in another encoding is an error in its place.
        try Data("workflow: [".utf8).write(to: folder.appendingPathComponent(".armed-response.yaml.swp.yaml"))
        try Data([0x77, 0x6F, 0xFF, 0xFE, 0x0A]).write(to: folder.appendingPathComponent("latin1.yaml"))
        let output = try ctl("workflow", "validate", "--quiet", folder.path)
        #expect(output.status == 1)
        #expect(
            output.stdout
                == "\(folder.path)/latin1.yaml:1:3: error: not UTF-8 text: byte 0xFF here is not part of a UTF-8 character; save the file as UTF-8 (it was perhaps saved as GBK or Latin-1)\n2 files checked: 1 error, 0 warnings\n",
            "\(output.stdout)")
    }

    @Test func validatingABrokenFilePrintsItsErrorsAndExitsOne() throws {
        let output = try ctl(
            "workflow", "validate", "Tests/JointOpsCoreTests/Fixtures/invalid/unknown-key.yaml",
            "Tests/JointOpsCoreTests/Fixtures/valid/minimal.yaml")
        #expect(output.status == 1)
        #expect(
            output.stdout == """
                Tests/JointOpsCoreTests/Fixtures/invalid/unknown-key.yaml:33:5: error: unknown key 'unit' in branch 'patrol'; did you mean 'units'?
                Tests/JointOpsCoreTests/Fixtures/valid/minimal.yaml: ok (street-robbery v1)
                2 files checked: 1 error, 0 warnings

                """)
        #expect(output.stderr == "")
    }

    @Test func warningsArePrintedButDoNotFailValidation() throws {
        let output = try ctl("workflow", "validate", "Tests/JointOpsCoreTests/Fixtures/warnings/never-dispatched.yaml")
        #expect(output.status == 0)
        #expect(
            output.stdout.hasPrefix(
                "Tests/JointOpsCoreTests/Fixtures/warnings/never-dispatched.yaml:47:3: warning: branch 'traffic' is never dispatched"))
        #expect(output.stdout.hasSuffix("\n1 file checked: 0 errors, 1 warning\n"))
    }

    @Test func twoWorkflowsWithOneIdAreRefusedWhereTheSecondSaysItsId() throws {
        let folder = URL(fileURLWithPath: "/tmp").appendingPathComponent("jointops-ids-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let minimal = try String(
            contentsOf: Paths.root.appendingPathComponent("Tests/JointOpsCoreTests/Fixtures/valid/minimal.yaml"), encoding: .utf8)
        try minimal.write(to: folder.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        try ("# a copy\n\n" + minimal).write(to: folder.appendingPathComponent("b.yaml"), atomically: true, encoding: .utf8)
        let output = try ctl("workflow", "validate", folder.path)
        #expect(output.status == 1)
        #expect(
            output.stdout == """
                \(folder.path)/a.yaml: ok (street-robbery v1)
                \(folder.path)/b.yaml:3:1: error: workflow id 'street-robbery' is also defined at \(folder.path)/a.yaml:1:1; give this one an id of its own
                2 files checked: 1 error, 0 warnings

                """)
    }

    @Test func aMissingPathIsAClearError() throws {
        let output = try ctl("workflow", "validate", "Workflows/nope.yaml")
        #expect(output.status == 64)
        #expect(output.stderr.contains("Error: no such file or folder: Workflows/nope.yaml"))
    }

    @Test func theDOTGraphRendersWithGraphviz() throws {
        let graph = try ctl("workflow", "graph", "Workflows/armed-response.yaml", "--format", "dot")
        #expect(graph.status == 0)
        #expect(graph.stdout.hasPrefix("digraph \"armed-response\" {"))
        // A phase's label is its lines joined with DOT's line break, not a literal backslash and n.
        #expect(graph.stdout.contains(#"        "phase_reported" [label="reported\n接警 / Reported"];"#))
        #expect(
            graph.stdout.contains(
                #"        "phase_responding" [label="responding\n先期处置 / Responding\ndispatch: public_order, swat, traffic"];"#))
        #expect(!graph.stdout.contains(#"\\n"#))
        let dot = try #require(
            ["/usr/bin/dot", "/usr/local/bin/dot"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "Graphviz is not installed: run scripts/install-test-deps.sh (make test does)")
        let rendered = try Self.run(URL(fileURLWithPath: dot), ["-Tsvg"], stdin: Data(graph.stdout.utf8))
        #expect(rendered.status == 0, "dot failed: \(rendered.stderr)")
        #expect(rendered.stdout.contains("<svg"))
        #expect(rendered.stderr == "")
    }

    @Test func graphAndSimulateReportAFileThatIsNotUTF8AtItsFirstBadByte() throws {
        let folder = URL(fileURLWithPath: "/tmp").appendingPathComponent("jointops-utf8-\(getpid())-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let latin1 = folder.appendingPathComponent("latin1.yaml").path
        try Data([0x77, 0x6F, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: latin1))
        let minimal = "Tests/JointOpsCoreTests/Fixtures/valid/minimal.yaml"
        for arguments in [
            ["workflow", "graph", latin1], ["workflow", "simulate", latin1, "--scenario", minimal],
            ["workflow", "simulate", minimal, "--scenario", latin1],
        ] {
            let output = try Self.run(Self.executable, arguments)
            #expect(output.status == 1, "\(arguments)")
            #expect(
                output.stderr
                    == "\(latin1):1:3: error: not UTF-8 text: byte 0xFF here is not part of a UTF-8 character; save the file as UTF-8 (it was perhaps saved as GBK or Latin-1)\n",
                "\(arguments)")
            #expect(output.stdout == "")
        }
    }

    @Test func theMermaidGraphIsAStateDiagram() throws {
        let graph = try ctl("workflow", "graph", "Tests/JointOpsCoreTests/Fixtures/valid/minimal.yaml")
        #expect(graph.status == 0)
        let lines = graph.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains("stateDiagram-v2"))
        #expect(lines.contains("    [*] --> reported"))
        #expect(lines.contains("    assessing --> in_action : dispatch [priority <= P2]"))
        #expect(lines.contains("    in_action --> reviewing : join∶ all ended (required)"))
        #expect(lines.contains("    reviewing --> closed : close"))
        #expect(lines.contains("        patrol_on_scene --> patrol_completed : handled"))
    }

    @Test func simulatingAScenarioPrintsItsTimeline() throws {
        let output = try ctl(
            "workflow", "simulate", "Workflows/armed-response.yaml", "--scenario", "Workflows/scenarios/armed-response.yaml")
        #expect(output.status == 0, "\(output.stdout)")
        #expect(output.stdout.hasPrefix("scenario: "))
        #expect(output.stdout.contains("T+00:00:00  started "))
        #expect(output.stdout.contains("passed: "))
    }

    @Test func theSummarySaysHowManyFailuresFollowedTheFirstRefusal() throws {
        let scenario = FileManager.default.temporaryDirectory.appendingPathComponent("jointops-refused-\(getpid()).yaml")
        try """
        scenario: dispatches before assessing
        start: {id: OP-1, region: hexi, attributes: {priority: P3}}
        timeline:
          - {at: 1m, fire: dispatch}
          - {at: 2m, expect: {phase: in_action}}
          - {at: 3m, expect: {steps: {patrol: dispatched}}}
        """.write(to: scenario, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: scenario) }
        let output = try ctl("workflow", "simulate", "Tests/JointOpsCoreTests/Fixtures/valid/minimal.yaml", "--scenario", scenario.path)
        #expect(output.status == 1)
        #expect(output.stdout.contains("FAILED \(scenario.path):4:5 (T+00:01:00): 'fire' was refused: "))
        #expect(
            output.stdout.hasSuffix(
                "failed: 3 expectations not met; the 2 after the first refused command (\(scenario.path):4:5) may only follow from it\n"))
    }

    @Test func aFailingScenarioExitsOneShowingExpectedAndActual() throws {
        let scenario = FileManager.default.temporaryDirectory.appendingPathComponent("jointops-failing-\(getpid()).yaml")
        try """
        scenario: expects the wrong phase
        start: {id: OP-1, region: hexi, attributes: {priority: P3}}
        timeline:
          - {at: 1m, expect: {phase: assessing}}
        """.write(to: scenario, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: scenario) }
        let output = try ctl("workflow", "simulate", "Tests/JointOpsCoreTests/Fixtures/valid/minimal.yaml", "--scenario", scenario.path)
        #expect(output.status == 1)
        #expect(output.stdout.contains("FAILED \(scenario.path):4:5 (T+00:01:00): expected phase 'assessing', actual 'reported'\n"))
        #expect(output.stdout.hasSuffix("failed: 1 expectation not met\n"))
    }

    /// Reproducer: the exit codes in --help did not say that 'admin verify' exits 1 on a
    /// broken chain (nor 'admin reload' on invalid files, nor the authoring commands).
    @Test func theHelpSaysWhatExitOneMeansForEachCommand() throws {
        let help = try ctl("--help")
        let text = help.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for said in [
            "'admin verify' found the event log's hash chain broken", "'admin reload' changed nothing (invalid files)",
            "'workflow validate' found an error, or 'workflow simulate' an expectation that failed",
        ] {
            #expect(text.contains(said), "\(said): \(help.stdout)")
        }
    }
}
