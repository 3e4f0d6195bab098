import Foundation
import JointOpsCore
import Logging

/// The workflows loaded from the workflows directory: the current version of each by id.
public struct WorkflowCatalog: Sendable {
    /// Current versions, by id.
    public var current: [String: Workflow]
    /// Source text of each current version, for the store.
    public var sources: [String: String]
    /// Every problem found, as the validator prints it.
    public var diagnostics: [Diagnostic]
    /// The file each current workflow came from, by id.
    public var paths: [String: String] = [:]

    /// Reads every .yaml/.yml file directly in `folder`. Invalid files are reported and left
    /// out; the daemon refuses to start only when none is valid.
    public static func load(from folder: String, logger: Logger) throws -> WorkflowCatalog {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
                .sorted()
        } catch {
            throw DaemonError(
                "cannot read the workflows directory \(folder): \(error.localizedDescription); create it or point --workflows at the folder with the workflow files"
            )
        }
        var catalog = WorkflowCatalog(current: [:], sources: [:], diagnostics: [])
        for name in names {
            let path = folder.hasSuffix("/") ? folder + name : folder + "/" + name
            guard let source = try? String(contentsOfFile: path, encoding: .utf8) else {
                catalog.diagnostics.append(Diagnostic(.error, at: SourceLocation(file: path, line: 1, column: 1), "cannot read the file"))
                continue
            }
            let result = WorkflowLoader.load(source: source, file: path)
            catalog.diagnostics += result.diagnostics
            for diagnostic in result.diagnostics { logger.warning("\(diagnostic)") }
            guard let workflow = result.workflow else { continue }
            if catalog.current[workflow.id] != nil {
                let diagnostic = Diagnostic(
                    .error, at: SourceLocation(file: path, line: 1, column: 1),
                    "workflow id '\(workflow.id)' is defined twice; each workflow needs its own id")
                catalog.diagnostics.append(diagnostic)
                logger.warning("\(diagnostic)")
                continue
            }
            catalog.current[workflow.id] = workflow
            catalog.sources[workflow.id] = source
            catalog.paths[workflow.id] = path
        }
        guard !catalog.current.isEmpty else {
            throw DaemonError(
                "no valid workflow in \(folder) (\(names.count) file\(names.count == 1 ? "" : "s") checked); fix the errors above (jointopsctl workflow validate \(folder))"
            )
        }
        return catalog
    }
}

extension WorkflowCatalog {
    /// Dispatch regions (`region:` of a phase's dispatch item) that the jurisdiction lacks,
    /// each at the place in the file that names it, with the closest ids.
    public func regionProblems(_ tree: JurisdictionTree) -> [Diagnostic] {
        var problems: [Diagnostic] = []
        for id in current.keys.sorted() {
            let workflow = current[id]!
            let source = sources[id] ?? ""
            let path = paths[id] ?? id
            for phase in workflow.phases {
                for rule in phase.dispatch {
                    guard let region = rule.region, !tree.contains(region) else { continue }
                    problems.append(
                        Diagnostic(
                            .error, at: Self.location(of: region, in: source, file: path),
                            "phase '\(phase.name)' dispatches branch '\(workflow.branches[rule.branch].name)' to \(tree.unknownRegionMessage(region))"
                        ))
                }
            }
        }
        return problems
    }

    /// Where `region:` first names `region` in the source (line 1 when not found).
    private static func location(of region: String, in source: String, file: String) -> SourceLocation {
        for (number, line) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard let key = line.range(of: "region:") else { continue }
            let rest = line[key.upperBound...]
            guard let found = rest.range(of: region) else { continue }
            let after = rest[found.upperBound...].first
            guard after == nil || !(after!.isLetter || after!.isNumber || after! == "-" || after! == "_") else { continue }
            return SourceLocation(file: file, line: number + 1, column: line.distance(from: line.startIndex, to: found.lowerBound) + 1)
        }
        return SourceLocation(file: file, line: 1, column: 1)
    }
}

/// A reason the daemon cannot start or go on, said so that an administrator knows what to do.
public struct DaemonError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
