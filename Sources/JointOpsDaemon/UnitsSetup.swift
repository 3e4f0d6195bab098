import Foundation
import JointOpsCore
import JointOpsStore
import Logging

/// Reads the jurisdiction and the roster when the daemon starts (and the tree on reload).
enum UnitsSetup {
    /// The jurisdiction tree from `path`, or every problem as `FILE:LINE:COLUMN: error: …`.
    static func tree(at path: String) throws(DaemonError) -> JurisdictionTree {
        let source: String
        switch text(of: path) {
        case .success(let text): source = text
        case .failure(let why):
            throw DaemonError.configuration(
                "cannot read the jurisdiction file \(path)\(why); create it (see Regions/tianjin.yaml) or point --regions at it")
        }
        let result = JurisdictionLoader.load(source: source, file: path)
        guard let tree = result.tree else {
            throw DaemonError.configuration(result.diagnostics.map(\.description).joined(separator: "\n"))
        }
        return tree
    }

    /// The roster as stored, on the configured tree; an empty store first imports the
    /// configured units file (one `unit_added` event each). Nil when no jurisdiction file is
    /// configured and none is at the default path: then regions are not checked.
    static func roster(_ configuration: DaemonConfiguration, store: EventStore, logger: Logger) throws -> UnitRoster? {
        let path = configuration.regionsFile
        guard FileManager.default.fileExists(atPath: path) || configuration.regionsFileIsExplicit else {
            logger.warning(
                "no jurisdiction file at \(path): regions are NOT checked and no units are dispatched; install one (make install copies Regions/tianjin.yaml) or pass --regions"
            )
            return nil
        }
        let tree = try tree(at: path)
        var roster = UnitRoster(tree: tree)
        let stored = try store.units()
        for unit in stored { roster.restore(unit) }
        if let orphan = stored.first(where: { !$0.retired && !tree.contains($0.homeRegion) }) {
            throw DaemonError.configuration(
                "unit '\(orphan.id)' is homed in '\(orphan.homeRegion)', which \(path) lacks: restore the region in the jurisdiction file or move the unit"
            )
        }
        if stored.isEmpty, let unitsPath = configuration.unitsFile {
            let (units, locations) = try load(unitsPath, tree: tree)
            var records: [RosterChange.Record] = []
            var problems: [String] = []
            let now = WallClock.now()
            // Every refused unit at its line, as `units import` says them, not the first alone.
            for (unit, location) in zip(units, locations) {
                do {
                    records.append(RosterChange.Record(at: now, actor: nil, change: try roster.add(unit)))
                } catch {
                    problems.append("\(location): error: \(error.message)")
                }
            }
            guard problems.isEmpty else { throw DaemonError.configuration(problems.joined(separator: "\n")) }
            try store.commit([], rosters: [RosterChange(records: records, units: roster.units)])
            logger.notice("imported \(units.count) units from \(unitsPath)")
        } else if !stored.isEmpty, let unitsPath = configuration.unitsFile {
            // An edited units file is not a roster change: say so, rather than seem to take it.
            logger.info(
                "units file \(unitsPath) not read: the store has its roster (imported once; the log holds every change since); change units with jointopsctl units add, change, retire or import"
            )
        }
        logger.info(
            "jurisdiction: \(tree.count) regions from \(path); roster: \(roster.units.count { !$0.retired }) units (\(roster.units.count { $0.isSelectable }) available)"
        )
        if roster.units.allSatisfy(\.retired) {
            // Every dispatch would wait for units for ever.
            let remedy =
                stored.isEmpty
                ? "set 'units:' in the configuration to a roster file (imported at the next start), or add units with jointopsctl units import"
                : "every unit is retired; add units with jointopsctl units add or import"
            logger.warning("the roster has no units: every branch dispatched will wait for units; \(remedy)")
        }
        return roster
    }

    /// Open operations, and their active branch instances, in a region `tree` lacks: one
    /// line each, `lacking` naming the tree ("the new jurisdiction") and `remedy` saying what
    /// to do, given the `jointopsctl reassign` command that would move it. An operation
    /// reassigned takes its active branches in its old region along, so those are not
    /// named again.
    static func regionProblems(
        of operations: some Sequence<OperationState>, in tree: JurisdictionTree, lacking: String, remedy: (String) -> String
    ) -> [String] {
        var problems: [String] = []
        for state in operations.sorted(by: { $0.id < $1.id }) {
            if !tree.contains(state.region) {
                problems.append(
                    "operation \(state.id) is in '\(state.region)', which \(lacking) lacks; \(remedy("jointopsctl reassign \(state.id) REGION"))"
                )
            }
            for branch in state.branches where branch.status == .active && !tree.contains(branch.region) {
                guard tree.contains(state.region) || branch.region != state.region else { continue }
                problems.append(
                    "branch \(branch.name) of operation \(state.id) is in '\(branch.region)', which \(lacking) lacks; \(remedy("jointopsctl reassign \(state.id) REGION --branch \(branch.name)"))"
                )
            }
        }
        return problems
    }

    /// What a reloaded jurisdiction changed, in words; empty when it is the same.
    static func changes(from old: JurisdictionTree, to new: JurisdictionTree) -> [String] {
        guard old.nodes != new.nodes else { return [] }
        let before = Set(old.nodes.map(\.id))
        let after = Set(new.nodes.map(\.id))
        func listed(_ ids: Set<String>, _ verb: String) -> String? {
            guard !ids.isEmpty else { return nil }
            let sorted = ids.sorted()
            let shown = sorted.prefix(5).joined(separator: ", ") + (sorted.count > 5 ? ", …" : "")
            return "\(ids.count) region\(ids.count == 1 ? "" : "s") \(verb) (\(shown))"
        }
        let counts = [listed(after.subtracting(before), "added"), listed(before.subtracting(after), "removed")].compactMap { $0 }
        return [
            "jurisdiction (\(new.count) regions): "
                + (counts.isEmpty ? "names, levels or parents changed; no region added or removed" : counts.joined(separator: ", "))
        ]
    }

    /// A file's UTF-8 text (through `readFile`: a FIFO is refused, not waited on), or why
    /// there is none, as ": <reason>" to follow the file's name in a message.
    private static func text(of path: String) -> Result<String, DaemonError> {
        do {
            let data = try readFile(path)
            guard let text = String(data: data, encoding: .utf8) else { return .failure(DaemonError(" (it is not UTF-8 text)")) }
            return .success(text)
        } catch {
            return .failure(DaemonError(": \(error)"))
        }
    }

    /// Units from a YAML or CSV (by extension) roster file.
    static func load(
        _ path: String, tree: JurisdictionTree
    ) throws(DaemonError) -> (units: [JointOpsCore.Unit], locations: [SourceLocation]) {
        let source: String
        switch text(of: path) {
        case .success(let text): source = text
        case .failure(let why):
            throw DaemonError.configuration("cannot read the units file \(path)\(why); fix the path of 'units' or remove it")
        }
        return try parse(source, file: path, csv: path.lowercased().hasSuffix(".csv"), tree: tree)
    }

    /// The units of a roster file's text, each with where its id is written.
    static func parse(
        _ source: String, file: String, csv: Bool, tree: JurisdictionTree
    ) throws(DaemonError) -> (units: [JointOpsCore.Unit], locations: [SourceLocation]) {
        let result =
            csv
            ? UnitRosterLoader.loadCSV(source: source, file: file, tree: tree)
            : UnitRosterLoader.loadYAML(source: source, file: file, tree: tree)
        guard let units = result.units else {
            throw DaemonError.configuration(result.diagnostics.map(\.description).joined(separator: "\n"))
        }
        return (units, result.locations)
    }
}
