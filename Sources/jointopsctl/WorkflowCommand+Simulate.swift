import ArgumentParser
import JointOpsAuthoring
import JointOpsCore

extension WorkflowCommand {
    struct Simulate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a scenario through the engine on a virtual clock and print the timeline.",
            discussion: "Exits 1 when an expectation fails, showing expected against actual."
        )

        @Argument(help: "A workflow file.", completion: .file(extensions: ["yaml", "yml"]))
        var file: String

        @Option(help: "The scenario file to run.", completion: .file(extensions: ["yaml", "yml"]))
        var scenario: String

        func run() throws {
            let workflow = try SourceFiles.loadWorkflow(file)
            let (parsed, diagnostics) = ScenarioParser.parse(
                source: try SourceFiles.readOrExit(scenario), file: scenario, workflow: workflow)
            for diagnostic in diagnostics { printError(diagnostic.description) }
            guard let parsed else { throw ExitCode(1) }
            let report = ScenarioRunner.run(parsed, workflow: workflow)
            print("scenario: \(parsed.name)")
            for line in report.lines { print(line) }
            if report.passed {
                print("passed: \(parsed.timeline.count) entries, \(report.events.count) events")
            } else {
                for failure in report.failures { print("FAILED \(failure)") }
                var summary = "failed: \(report.failures.count) expectation\(report.failures.count == 1 ? "" : "s") not met"
                if let (location, index) = report.firstRefusal, report.failures.count > index + 1 {
                    let after = report.failures.count - index - 1
                    summary += "; the \(after) after the first refused command (\(location)) may only follow from it"
                }
                print(summary)
                throw ExitCode(1)
            }
        }
    }
}
