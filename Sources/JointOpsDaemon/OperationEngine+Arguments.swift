import JointOpsCore
import JointOpsProtocol

/// Checks of a command's arguments against what the daemon knows and the pure engine does
/// not: the jurisdiction, the roster, the audiences of every loaded workflow. Each refusal
/// names the parameter and says what would be accepted.
extension OperationEngine {
    /// Who can be told of an escalation when no workflow's ladder names them.
    static let standingAudiences: Set<String> = ["command_center", "duty_commander"]

    func checkArguments(of command: Command, on state: OperationState) throws(VarlinkError) {
        switch command {
        case .reinforce(let branch, let units, let region):
            if let region { try checkRegion(region, parameter: "region") }
            if let units { try checkUnitCount(units, branch: branch, of: state.workflow) }
        case .reassign(let region, _):
            try checkRegion(region, parameter: "region")
        case .escalate(_, let audience?):
            try checkAudience(audience)
        default:
            break
        }
    }

    /// A reinforcement asks for at least one unit, and at most as many as the jurisdiction has of the
    /// branch's kind: a typo (`--units 999`) would otherwise take every free unit of that
    /// kind in the city and leave the rest awaited for good.
    private func checkUnitCount(_ units: Int, branch name: String, of workflow: Workflow) throws(VarlinkError) {
        guard units >= 1 else { throw VarlinkError.invalidParameter("units", because: "ask for at least 1 unit, not \(units)") }
        guard let roster, let branch = workflow.branch(named: name).map({ workflow.branches[$0] }) else { return }
        let kind = branch.kind
        let serving = roster.units.filter { !$0.retired && $0.kind == kind }
        guard units > serving.count else { return }
        let free = serving.count { $0.isSelectable }
        throw VarlinkError.invalidParameter(
            "units",
            because:
                "the jurisdiction has \(serving.count) \(kind.rawValue) unit\(serving.count == 1 ? "" : "s") in all (\(free) free now), so \(units) cannot be sent; ask for at most \(serving.count) (the branch's usual number is \(branch.units))"
        )
    }

    /// An escalation goes to an audience some loaded workflow's ladder names, or to the
    /// standing ones: a typo would otherwise alert nobody, silently.
    private func checkAudience(_ audience: String) throws(VarlinkError) {
        var known = Self.standingAudiences
        for workflow in catalog.current.values {
            for deadline in workflow.deadlines {
                for rung in deadline.ladder {
                    if case .notify(let name) = rung.action { known.insert(name) }
                }
            }
        }
        guard !known.contains(audience) else { return }
        throw VarlinkError.invalidParameter(
            "audience",
            because:
                "nobody called '\(audience)' is alerted by jointops\(Suggestions.hint(for: audience, in: known.sorted(), noun: "audiences"))"
        )
    }
}
