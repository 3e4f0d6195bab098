import ArgumentParser
import Foundation
import JointOpsCore

/// Reading definition files for the authoring commands.
enum SourceFiles {
    /// The files named, and the workflow files directly inside the folders named (.yaml and
    /// .yml, hidden ones left out as the daemon leaves them out), sorted.
    static func workflowFiles(in paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw ValidationError("no such file or folder: \(path)")
            }
            if isDirectory.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: path)
                let base = path.hasSuffix("/") ? path : path + "/"
                files += names.filter(WorkflowLoader.isWorkflowFileName).sorted().map { base + $0 }
            } else {
                files.append(path)
            }
        }
        if files.isEmpty { throw ValidationError("no .yaml or .yml files in \(paths.joined(separator: ", "))") }
        return files
    }

    /// A definition file's text (a workflow, scenario or regions file), or the diagnostic at
    /// its 1:1 that says why there is none.
    static func readDefinition(_ path: String) -> (source: String?, problem: Diagnostic?) {
        guard let data = FileManager.default.contents(atPath: path) else {
            let start = SourceLocation(file: path, line: 1, column: 1)
            return (nil, Diagnostic(.error, at: start, "cannot read the file: no such file or not readable"))
        }
        guard let text = String(data: data, encoding: .utf8) else { return (nil, WorkflowLoader.notUTF8(file: path, bytes: data)) }
        return (text, nil)
    }

    /// A definition file's text for a command that reads one file: when there is none, its
    /// diagnostic goes to stderr and the command exits 1, as for any error in the file.
    static func readOrExit(_ path: String) throws -> String {
        let (source, problem) = readDefinition(path)
        guard let source else {
            printError(problem!.description)
            throw ExitCode(1)
        }
        return source
    }

    /// Loads a workflow, printing its diagnostics to stderr; exits 1 when it has errors.
    static func loadWorkflow(_ path: String) throws -> Workflow {
        let result = WorkflowLoader.load(source: try readOrExit(path), file: path)
        for diagnostic in result.diagnostics { printError(diagnostic.description) }
        guard let workflow = result.workflow else { throw ExitCode(1) }
        return workflow
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
