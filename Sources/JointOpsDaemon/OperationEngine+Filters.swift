import JointOpsCore
import JointOpsProtocol
import JointOpsStore

/// Filters of reads (List, Overdue, Evaluate, Watch) are checked before they are applied: a
/// typo in one (`--region hexii`, `--phase repoted`) would otherwise read as "nothing open"
/// or "nothing overdue" at the worst moment. A region stands for itself and its sub-regions.
extension OperationEngine {
    /// The list filter checked, its priority written as the views write it (`p1` → `P1`),
    /// and its region widened to the region's sub-tree.
    func checked(_ filter: ListFilter) throws(VarlinkError) -> ListFilter {
        var filter = filter
        if let phase = filter.phase, !["closed", "cancelled"].contains(phase), !anyWorkflow({ $0.phases.contains { $0.name == phase } }) {
            let names = Set(catalog.current.values.flatMap { $0.phases.map(\.name) } + ["closed", "cancelled"]).sorted()
            throw VarlinkError.invalidParameter(
                "phase", because: "no workflow has a phase '\(phase)'\(Suggestions.hint(for: phase, in: names, noun: "phases"))")
        }
        if let branch = filter.branch { try checkBranchName(branch, parameter: "branch") }
        if let priority = filter.priority { filter.priority = "P\(try priorityLevel(priority))" }
        if let region = filter.region { filter.regionScope = try regionScope(region, parameter: "region") }
        return filter
    }

    /// A workflow branch's name (`swat`, `public_order`), as filters take it.
    func checkBranchName(_ branch: String, parameter: String) throws(VarlinkError) {
        guard !anyWorkflow({ $0.branches.contains { $0.name == branch } }) else { return }
        let names = Set(catalog.current.values.flatMap { $0.branches.map(\.name) })
        throw VarlinkError.invalidParameter(
            parameter, because: "no workflow has a branch '\(branch)'\(Suggestions.hint(for: branch, in: names.sorted(), noun: "branches"))"
        )
    }

    /// A workflow id, as report filters take it: loaded now, or stored by an earlier load.
    func checkWorkflowName(_ workflow: String, parameter: String) throws(VarlinkError) {
        guard !anyWorkflow({ $0.id == workflow }) else { return }
        var names = Set(catalog.current.keys)
        names.formUnion(try storeRead({ () throws(StoreError) in try store.storedWorkflowIDs() }))
        guard !names.contains(workflow) else { return }
        throw VarlinkError.invalidParameter(
            parameter,
            because: "no workflow '\(workflow)' was ever loaded\(Suggestions.hint(for: workflow, in: names.sorted(), noun: "workflows"))")
    }

    /// P1 (most urgent) to P4; `p1` is taken for `P1`.
    func priorityLevel(_ text: String, parameter: String = "priority") throws(VarlinkError) -> Int {
        guard let level = AttributeValue.priorityLevel(text.uppercased()) else {
            throw VarlinkError.invalidParameter(parameter, because: "'\(text)' is not a priority; use P1, P2, P3 or P4")
        }
        return level
    }

    /// The region and its sub-regions (the region alone without a jurisdiction tree).
    func regionScope(_ region: String, parameter: String) throws(VarlinkError) -> Set<String> {
        try checkRegion(region, parameter: parameter)
        guard let tree = roster?.tree else { return [region] }
        return Set(tree.subtree(of: region))
    }

    /// Whether a workflow now loaded, or one an open operation still runs on (an older
    /// version), satisfies `test`; each version is tested once.
    private func anyWorkflow(_ test: (Workflow) -> Bool) -> Bool {
        if catalog.current.values.contains(where: test) { return true }
        // Operations of one version share its compiled Workflow: test each instance once.
        var tested: Set<ObjectIdentifier> = []
        for state in operations.values where tested.insert(ObjectIdentifier(state.workflow)).inserted {
            if test(state.workflow) { return true }
        }
        return false
    }
}
