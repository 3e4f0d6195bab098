/// Checking a workflow against the jurisdiction: every dispatch `region:` must be a region
/// of the tree.
extension JurisdictionTree {
    /// A dispatch region the tree lacks, as `FILE:LINE:COLUMN: error: …` at the place in
    /// `source` that names it, with the closest ids.
    public func dispatchProblems(in workflow: Workflow, source: String, file: String) -> [Diagnostic] {
        var problems: [Diagnostic] = []
        var seen: [String: Int] = [:]
        for phase in workflow.phases {
            for rule in phase.dispatch {
                guard let region = rule.region, !contains(region) else { continue }
                // The n-th dispatch to an unknown region is its n-th mention in the file (phases keep file order).
                let occurrence = seen[region, default: 0]
                seen[region] = occurrence + 1
                problems.append(
                    Diagnostic(
                        .error, at: Self.location(of: region, occurrence: occurrence, in: source, file: file),
                        "phase '\(phase.name)' dispatches branch '\(workflow.branches[rule.branch].name)' to \(unknownRegionMessage(region))"
                    ))
            }
        }
        return problems
    }

    /// Where `region:` names `region` for the `occurrence`-th time (from 0) in the source
    /// (line 1 when not found).
    private static func location(of region: String, occurrence: Int, in source: String, file: String) -> SourceLocation {
        var skip = occurrence
        for (number, line) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard let key = line.range(of: "region:") else { continue }
            let rest = line[key.upperBound...]
            guard let found = rest.range(of: region) else { continue }
            if let after = rest[found.upperBound...].first, after.isLetter || after.isNumber || after == "-" || after == "_" { continue }
            guard skip == 0 else {
                skip -= 1
                continue
            }
            return SourceLocation(file: file, line: number + 1, column: line.distance(from: line.startIndex, to: found.lowerBound) + 1)
        }
        return SourceLocation(file: file, line: 1, column: 1)
    }
}
