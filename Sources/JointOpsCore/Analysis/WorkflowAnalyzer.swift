/// The checks a reviewer would miss: reachability, paths to `closed`, joins that can never
/// be satisfied, deadlines measured from moments that cannot have happened yet.
///
/// Runs on a structurally valid, compiled workflow.
struct WorkflowAnalyzer {
    let workflow: Workflow
    let sourceMap: SourceMap
    let sink: DiagnosticSink

    func run() {
        let graph = PhaseGraph(workflow)
        checkPhaseReachability(graph)
        for branch in workflow.branches.indices { checkSteps(of: branch) }
        checkJoins(graph)
        checkDeadlines(graph)
    }

    private func checkPhaseReachability(_ graph: PhaseGraph) {
        let reachable = graph.reachable(from: workflow.initialPhase, includingStart: true)
        let initialName = workflow.phases[workflow.initialPhase].name
        let closable = Set(workflow.closeFrom)
        for (index, phase) in workflow.phases.enumerated() {
            if !reachable.contains(index) {
                sink.error(
                    sourceMap.phases[index],
                    "phase '\(phase.name)' is unreachable: no event or join leads to it from the initial phase '\(initialName)'")
            }
            if graph.reachable(from: index, includingStart: true).isDisjoint(with: closable) {
                let names = workflow.closeFrom.map { workflow.phases[$0].name }.joined(separator: ", ")
                sink.error(
                    sourceMap.phases[index],
                    "phase '\(phase.name)' has no path to 'closed': no event or join leads from it to a phase the operation can close from (\(names))"
                )
            }
        }
    }

    private func checkSteps(of branchIndex: Int) {
        let branch = workflow.branches[branchIndex]
        let edges = branch.steps.map { $0.next + $0.outcomes.map(\.target) }
        let reachable = PhaseGraph.closure(edges, from: branch.initialStep, includingStart: true)
        for (index, step) in branch.steps.enumerated() {
            let location = sourceMap.steps[branchIndex][index]
            if !reachable.contains(index) {
                sink.error(
                    location,
                    "step '\(step.name)' of branch '\(branch.name)' is unreachable from its initial step '\(branch.steps[branch.initialStep].name)'"
                )
            }
            let ahead = PhaseGraph.closure(edges, from: index, includingStart: true)
            if !ahead.contains(where: { branch.steps[$0].end != nil }) {
                sink.error(
                    location, "step '\(step.name)' of branch '\(branch.name)' has no path to an end step (completed, failed or stood_down)")
            }
        }
    }

    private func checkJoins(_ graph: PhaseGraph) {
        for (phaseIndex, phase) in workflow.phases.enumerated() {
            let dispatchable = graph.branchesDispatched(onPathTo: phaseIndex)
            for (joinIndex, join) in phase.joins.enumerated() {
                let location = sourceMap.joins[phaseIndex][joinIndex]
                let scope: [Int]
                if let of = join.of {
                    for (position, branch) in of.enumerated() where !dispatchable.contains(branch) {
                        sink.error(
                            sourceMap.joinBranches[phaseIndex][joinIndex][position],
                            "join in phase '\(phase.name)' waits on branch '\(workflow.branches[branch].name)', but no phase on a path to '\(phase.name)' dispatches it"
                        )
                    }
                    scope = of.filter(dispatchable.contains)
                } else {
                    scope = workflow.branches.indices.filter { workflow.branches[$0].required && dispatchable.contains($0) }
                    if scope.isEmpty {
                        sink.error(
                            location,
                            "join in phase '\(phase.name)' waits on the required branches dispatched so far, but no phase on a path to '\(phase.name)' dispatches a required branch"
                        )
                        continue
                    }
                }
                guard join.condition != .ended else { continue }
                let unable = scope.filter { branch in
                    !workflow.branches[branch].steps.contains { step in step.end.map(join.condition.matches) ?? false }
                }
                if join.quantifier == .all, let branch = unable.first {
                    sink.error(
                        location,
                        "join in phase '\(phase.name)' waits for every branch to be \(join.condition.rawValue), but branch '\(workflow.branches[branch].name)' has no step with 'end: \(join.condition.rawValue)'"
                    )
                } else if join.quantifier == .any, unable.count == scope.count, !scope.isEmpty {
                    sink.error(
                        location,
                        "join in phase '\(phase.name)' waits for any branch to be \(join.condition.rawValue), but none of the branches it waits on has a step with 'end: \(join.condition.rawValue)'"
                    )
                }
            }
        }
    }

    private func checkDeadlines(_ graph: PhaseGraph) {
        let reinforced = Set(workflow.reinforceable).union(
            workflow.deadlines.flatMap {
                $0.ladder.compactMap { rung in
                    if case .reinforce(let branch) = rung.action { return branch }
                    return nil
                }
            })
        for (index, deadline) in workflow.deadlines.enumerated() {
            guard !canPrecede(deadline.from, deadline.reach, graph, reinforced: reinforced) else { continue }
            sink.error(
                sourceMap.deadlineFrom[index],
                "deadline '\(deadline.id)' is measured from '\(workflow.name(of: deadline.from))', which cannot happen before '\(workflow.name(of: deadline.reach))'; measure it from an earlier moment"
            )
        }
    }

    /// Whether `from` can happen before `reach` on some run of the workflow.
    private func canPrecede(_ from: Moment, _ reach: Moment, _ graph: PhaseGraph, reinforced: Set<Int>) -> Bool {
        switch (from, reach) {
        case (.started, _), (_, .closed), (.unitsAwaited, .unitsFilled):
            return true
        case (.phase(let a), .phase(let b)):
            return graph.reachable(from: a, includingStart: false).contains(b)
        case (.step(let branch, let a), .step(_, let b)):
            let steps = workflow.branches[branch].steps
            return PhaseGraph.closure(steps.map { $0.next + $0.outcomes.map(\.target) }, from: a, includingStart: false).contains(b)
        case (.phase(let phase), .step(let branch, _)):
            return reinforced.contains(branch)
                || graph.reachable(from: phase, includingStart: true).contains { graph.dispatches($0, branch) }
        case (.step(let branch, _), .phase(let phase)):
            return reinforced.contains(branch)
                || workflow.phases.indices.contains {
                    graph.dispatches($0, branch) && graph.reachable(from: $0, includingStart: false).contains(phase)
                }
        default:
            return false
        }
    }
}
