import Foundation
import JointOpsCore
import JointOpsStore
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
    /// Files left out because of an error in them (or a clash with another), in order.
    public var skipped: [String] = []

    /// Reads every .yaml/.yml file directly in `folder`, but hidden ones (a name starting with
    /// '.', such as an editor's swap file). Invalid files are logged with their errors and left
    /// out; the daemon refuses to start only when none is valid.
    public static func load(from folder: String, logger: Logger) throws -> WorkflowCatalog {
        let names = try workflowFileNames(in: folder)
        var catalog = WorkflowCatalog(current: [:], sources: [:], diagnostics: [])
        for name in names {
            let path = folder.hasSuffix("/") ? folder + name : folder + "/" + name
            let (source, problems) = read(path)
            var diagnostics = problems
            var workflow: Workflow?
            if let source {
                let result = WorkflowLoader.load(source: source, file: path)
                diagnostics += result.diagnostics
                workflow = result.workflow
            }
            if let workflow, let first = catalog.paths[workflow.id] {
                let place = WorkflowLoader.keyLocation("workflow", in: catalog.sources[workflow.id]!, file: first)
                diagnostics.append(
                    Diagnostic(
                        .error, at: WorkflowLoader.keyLocation("workflow", in: source!, file: path),
                        "workflow id '\(workflow.id)' is already taken by \(place) (which is loaded); give this one an id of its own"))
            }
            catalog.diagnostics += diagnostics
            for diagnostic in diagnostics {
                logger.log(level: diagnostic.severity == .error ? .error : .warning, "\(diagnostic)")
            }
            guard let workflow, !diagnostics.hasErrors else {
                catalog.skipped.append(path)
                continue
            }
            catalog.current[workflow.id] = workflow
            catalog.sources[workflow.id] = source
            catalog.paths[workflow.id] = path
        }
        guard !names.isEmpty else {
            throw DaemonError.configuration(
                "the workflows folder \(folder) has no workflow file (.yaml or .yml) — put the workflow definitions in it (make install copies the repository's Workflows/ to /etc/jointops/workflows), or \(pointAtTheFolder)"
            )
        }
        guard !catalog.current.isEmpty else {
            let errors = catalog.diagnostics.filter { $0.severity == .error }.map(\.description)
            throw DaemonError.configuration(
                ([
                    "no valid workflow in \(folder) (\(names.count) file\(names.count == 1 ? "" : "s") checked); fix these (jointopsctl workflow validate \(folder)):"
                ]
                    + errors).joined(separator: "\n"))
        }
        return catalog
    }

    /// Where the folder is set, for an administrator who must point jointopsd elsewhere:
    /// under the installed unit the configuration file, when run by hand perhaps the flag.
    static let pointAtTheFolder =
        "set workflows: in jointopsd's configuration file (\(DaemonConfiguration.defaultFile) as installed), or --workflows on its command line, to the folder that holds them"

    /// The names of the workflow files directly in `folder`, sorted; when the folder cannot be
    /// listed, or its files could not be read, says which of these it is — missing, not a
    /// folder, closed to jointopsd's user — and what to do, in plain words.
    static func workflowFileNames(in folder: String) throws(DaemonError) -> [String] {
        guard let directory = opendir(folder) else { throw DaemonError.configuration(unreadable(folder, errno)) }
        defer { closedir(directory) }
        // Listed but not searchable (r without x): no file in it could be opened.
        guard access(folder, X_OK) == 0 else { throw DaemonError.configuration(unreadable(folder, errno)) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(directory) else {
                guard errno == 0 else { throw DaemonError.configuration(unreadable(folder, errno)) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if WorkflowLoader.isWorkflowFileName(name) { names.append(name) }
        }
        return names.sorted()
    }

    /// Why the workflows folder cannot be read (`code`, the errno of opening or listing it),
    /// naming the folder, the cause and the fix.
    static func unreadable(_ folder: String, _ code: Int32) -> String {
        var info = stat()
        let found = stat(folder, &info) == 0
        let me = StoreError.name(ofUser: geteuid())
        switch code {
        case ENOENT:
            return
                "the workflows folder \(folder) does not exist — create it and put the workflow definitions in it (make install copies the repository's Workflows/ to /etc/jointops/workflows), or \(pointAtTheFolder)"
        case ENOTDIR where found:
            return "the workflows folder \(folder) is a file, not a folder — \(pointAtTheFolder)"
        case ENOTDIR:
            return "the workflows folder \(folder) cannot be there: a name on its path is a file, not a folder — \(pointAtTheFolder)"
        case EACCES where found, EPERM where found:
            let owner = "\(StoreError.name(ofUser: info.st_uid)):\(StoreError.name(ofGroup: info.st_gid))"
            return
                "the workflows folder \(folder) is not readable by \(me), the user jointopsd runs as: it belongs to \(owner) with mode \(String(format: "%04o", info.st_mode & 0o7777)) — make it readable for \(me) (chmod a+rx \(folder)), or \(pointAtTheFolder)"
        case EACCES, EPERM:
            return
                "the workflows folder \(folder) is out of reach of \(me), the user jointopsd runs as: a folder on its path is closed to it (namei -l \(folder) shows each one's owner and mode) — open that folder to \(me) (chmod a+x), or \(pointAtTheFolder)"
        default:
            return "cannot read the workflows folder \(folder): \(String(cString: strerror(code))) — \(pointAtTheFolder)"
        }
    }

    /// A file's text, or why there is none (as a diagnostic at 1:1).
    private static func read(_ path: String) -> (String?, [Diagnostic]) {
        let start = SourceLocation(file: path, line: 1, column: 1)
        let data: Data
        do {
            data = try readFile(path)
        } catch {
            let hint = "\(error)".contains("Permission denied") ? "; make it readable for jointopsd's user" : ""
            return (nil, [Diagnostic(.error, at: start, "cannot read the file: \(error)\(hint)")])
        }
        guard let source = String(data: data, encoding: .utf8) else {
            return (nil, [WorkflowLoader.notUTF8(file: path, bytes: data)])
        }
        return (source, [])
    }

    /// Runs `workflow`, as the store has it, instead of what its file now says (which the
    /// store refused): the version that ran before.
    public mutating func keepStored(_ workflow: Workflow, source: String) {
        current[workflow.id] = workflow
        sources[workflow.id] = source
    }

    /// Leaves out the workflow `id` (its file is counted as skipped).
    public mutating func skip(_ id: String) {
        guard current.removeValue(forKey: id) != nil else { return }
        sources[id] = nil
        skipped.append(paths.removeValue(forKey: id) ?? id)
    }

    /// The store's refusal as a problem in a file: a workflow changed without a new version
    /// number, or given a lower one than the store has, is reported at the `version:` line
    /// of its file.
    public func problem(_ error: StoreError) -> String {
        guard let id = error.workflow, let path = paths[id], let source = sources[id] else { return error.message }
        return Diagnostic(.error, at: WorkflowLoader.keyLocation("version", in: source, file: path), error.message).description
    }

    /// "12 workflows loaded" and, if any were left out, how many files and which.
    public var summary: String {
        let loaded = "\(current.count) workflow\(current.count == 1 ? "" : "s") loaded"
        guard !skipped.isEmpty else { return loaded }
        return "\(loaded), \(skipped.count) invalid file\(skipped.count == 1 ? "" : "s") skipped (\(skipped.joined(separator: ", ")))"
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
    /// A mistake in what jointopsd was given to read (its workflows, jurisdiction or units
    /// files): starting again will not mend it, so jointopsd exits 78 (EX_CONFIG), which the
    /// unit does not restart on.
    public var isConfiguration = false

    public init(_ description: String) { self.description = description }

    static func configuration(_ description: String) -> DaemonError {
        var error = DaemonError(description)
        error.isConfiguration = true
        return error
    }

    /// Whether a file operation failed because the file system is read-only (EROFS), which
    /// Foundation reports as its own "The volume is read only".
    static func isReadOnlyFileSystem(_ error: any Error) -> Bool {
        let error = error as NSError
        if error.domain == NSCocoaErrorDomain, error.code == CocoaError.fileWriteVolumeReadOnly.rawValue { return true }
        let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError ?? error
        return underlying.domain == NSPOSIXErrorDomain && underlying.code == Int(EROFS)
    }

    /// The system's words for why a file operation failed ("Permission denied"), rather than
    /// Foundation's wrapping of them.
    static func reason(_ error: any Error, path: String? = nil) -> String {
        let error = error as NSError
        if let underlying = error.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        if error.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(error.code))) }
        // Foundation's own words for these say nothing useful ("NSCocoaErrorDomain error 256").
        var isFolder: ObjCBool = false
        if let path, FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), !isFolder.boolValue {
            return "it is a file, not a folder"
        }
        if let path, path.utf8.count > Int(PATH_MAX) || path.split(separator: "/").contains(where: { $0.utf8.count > Int(NAME_MAX) }) {
            return "the path or one of its names is too long"
        }
        return error.localizedDescription
    }
}
