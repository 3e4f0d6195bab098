/// What is allowed but almost certainly not meant: reported as warnings, which never make
/// a workflow invalid. Runs on a workflow without errors.
///
/// (A required attribute's unused default is warned about where attributes are read.)
struct WorkflowWarnings {
    let workflow: Workflow
    let sourceMap: SourceMap
    let sink: DiagnosticSink

    func run() {
        checkBranchesAreDispatched()
        checkTimerCycles()
        checkRungEvents()
        checkShadowedJoins()
    }

    /// A branch that no phase dispatches, and neither `reinforce` nor a ladder rung names,
    /// can never have an instance.
    private func checkBranchesAreDispatched() {
        var dispatched = Set(workflow.phases.flatMap { $0.dispatch.map(\.branch) }).union(workflow.reinforceable)
        for deadline in workflow.deadlines {
            for rung in deadline.ladder {
                if case .reinforce(let branch) = rung.action { dispatched.insert(branch) }
            }
        }
        for (index, branch) in workflow.branches.enumerated() where !dispatched.contains(index) {
            sink.warning(
                sourceMap.branches[index],
                "branch '\(branch.name)' is never dispatched: no phase dispatches it, and neither 'reinforce' nor an escalation rung names it; dispatch it from a phase, or remove it"
            )
        }
    }

    /// A join that an earlier join of its phase always beats: whenever it holds the earlier
    /// one holds too, and the first join that holds is taken. Only what follows from the two
    /// joins alone is reported: the later one's status is one the earlier accepts (`ended`
    /// accepts every end), and either both are `all` over the same branches, or the earlier
    /// is an `any` over branches that include the later one's.
    private func checkShadowedJoins() {
        for (phaseIndex, phase) in workflow.phases.enumerated() {
            for (index, join) in phase.joins.enumerated() {
                guard let earlier = phase.joins[..<index].firstIndex(where: { shadows($0, join) }) else { continue }
                let line = sourceMap.joins[phaseIndex][earlier].line
                sink.warning(
                    sourceMap.joins[phaseIndex][index],
                    "join '\(join.quantifier.rawValue): \(join.condition.rawValue)' of phase '\(phase.name)' is never taken: the join at line \(line), '\(phase.joins[earlier].quantifier.rawValue): \(phase.joins[earlier].condition.rawValue)', holds whenever it does, and the first join that holds is taken; list this one before it"
                )
            }
        }
    }

    /// Whether `earlier` holds whenever `later` does (for the same instances in scope).
    private func shadows(_ earlier: JoinRule, _ later: JoinRule) -> Bool {
        // With no `of`, a join counts the instances of required branches.
        let required = Set(workflow.branches.indices.filter { workflow.branches[$0].required })
        let earlierScope = earlier.of.map(Set.init) ?? required
        let laterScope = later.of.map(Set.init) ?? required
        let accepted = BranchStatus.endStatuses.filter(earlier.condition.matches)
        guard !laterScope.isEmpty, BranchStatus.endStatuses.filter(later.condition.matches).allSatisfy(accepted.contains) else {
            return false
        }
        switch (earlier.quantifier, later.quantifier) {
        case (.all, .all): return earlierScope == laterScope
        case (.any, _): return laterScope.isSubset(of: earlierScope)
        case (.all, .any): return false
        }
    }

    /// Phases whose timers lead round a cycle: an operation nobody touches goes round it
    /// forever, its log growing with every lap. Each cycle is reported once, at its first phase.
    private func checkTimerCycles() {
        let edges = workflow.phases.map { phase in
            phase.timers.flatMap { timer in phase.event(named: timer.event)?.alternatives.map(\.target) ?? [] }
        }
        for start in edges.indices {
            guard let cycle = cycle(from: start, edges) else { continue }
            let names = (cycle + [start]).map { "'\(workflow.phases[$0].name)'" }.joined(separator: " → ")
            sink.warning(
                sourceMap.phases[start],
                "phase timers lead \(names) with no operator action between: an operation left alone goes round forever; let an operator's event break the cycle"
            )
        }
    }

    /// A path from `start` back to it through phases after `start` only (so a cycle is found
    /// from its first phase alone), `start` first; nil if there is none.
    private func cycle(from start: Int, _ edges: [[Int]]) -> [Int]? {
        var path = [start]
        var seen: Set<Int> = [start]
        func search(_ phase: Int) -> Bool {
            for next in edges[phase] {
                if next == start { return true }
                guard next > start, seen.insert(next).inserted else { continue }
                path.append(next)
                if search(next) { return true }
                path.removeLast()
            }
            return false
        }
        return search(start) ? path : nil
    }
}
