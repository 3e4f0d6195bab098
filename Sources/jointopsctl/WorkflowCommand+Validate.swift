import ArgumentParser
import JointOpsCore

extension WorkflowCommand {
    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check workflow files; print every problem as FILE:LINE:COLUMN: error: MESSAGE.",
            discussion:
                "A folder means every .yaml/.yml file directly in it (not its sub-folders, such as scenarios/). A file is checked in stages (its YAML; the definition: keys, values, names, references and guards; the phase graph: joins and deadlines that can be reached; then warnings): every problem of a stage is printed, and the next stage runs once the file has none. Exits 0 when there is no error, 1 otherwise (warnings do not fail), 64 when a file or folder named does not exist."
        )

        @Argument(help: "Workflow files or folders.", completion: .file(extensions: ["yaml", "yml"]))
        var paths: [String]

        @Flag(name: .shortAndLong, help: "Print nothing for clean files.")
        var quiet = false

        @Option(help: "A jurisdiction file (regions.yaml): dispatch regions must be among its regions.")
        var regions: String?

        func run() throws {
            let files = try SourceFiles.workflowFiles(in: paths)
            var tree: JurisdictionTree?
            if let regions {
                let (source, problem) = SourceFiles.readDefinition(regions)
                let loaded = source.map { JurisdictionLoader.load(source: $0, file: regions) }
                for diagnostic in [problem].compactMap({ $0 }) + (loaded?.diagnostics ?? []) { print(diagnostic) }
                guard let loadedTree = loaded?.tree else { throw ExitCode(1) }
                tree = loadedTree
            }
            var errors = 0
            var warnings = 0
            // Where each workflow id was first defined: its file's `workflow:` key.
            var ids: [String: SourceLocation] = [:]
            for file in files {
                let (read, problem) = SourceFiles.readDefinition(file)
                guard let source = read else {
                    print(problem!)
                    errors += 1
                    continue
                }
                var result = WorkflowLoader.load(source: source, file: file)
                if let tree, let workflow = result.workflow {
                    result.diagnostics += tree.dispatchProblems(in: workflow, source: source, file: file)
                }
                if let workflow = result.workflow {
                    let here = WorkflowLoader.keyLocation("workflow", in: source, file: file)
                    if let first = ids[workflow.id] {
                        result.diagnostics.append(
                            Diagnostic(
                                .error, at: here,
                                "workflow id '\(workflow.id)' is also defined at \(first); give this one an id of its own"))
                    } else {
                        ids[workflow.id] = here
                    }
                }
                for diagnostic in result.diagnostics.sortedByLocation { print(diagnostic) }
                errors += result.diagnostics.count { $0.severity == .error }
                warnings += result.diagnostics.count { $0.severity == .warning }
                if let workflow = result.workflow, !quiet, result.diagnostics.isEmpty {
                    print("\(file): ok (\(workflow.id) v\(workflow.version))")
                }
            }
            print(
                "\(files.count) file\(files.count == 1 ? "" : "s") checked: \(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")"
            )
            if errors > 0 { throw ExitCode(1) }
        }
    }
}
