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
        current.keys.sorted().flatMap { id in
            tree.dispatchProblems(in: current[id]!, source: sources[id] ?? "", file: paths[id] ?? id)
        }
    }
}

/// A reason the daemon cannot start or go on, said so that an administrator knows what to do.
public struct DaemonError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }

    /// The system's words for why a file operation failed ("Permission denied"), rather than
    /// Foundation's wrapping of them.
    static func reason(_ error: any Error) -> String {
        let error = error as NSError
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if error.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(error.code))) }
        return error.localizedDescription
    }
}
