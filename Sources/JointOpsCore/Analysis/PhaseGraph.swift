/// The phase transition graph (events and joins) with reachability queries.
struct PhaseGraph {
    let workflow: Workflow
    let edges: [[Int]]
    /// For each phase, the phases reachable from it by one or more transitions (computed once:
    /// the checks ask for them many times).
    private let forward: [Set<Int>]

    init(_ workflow: Workflow) {
        self.workflow = workflow
        let edges = workflow.phases.map { phase in
            phase.events.flatMap { $0.alternatives.map(\.target) } + phase.joins.map(\.target)
        }
        self.edges = edges
        forward = edges.indices.map { Self.closure(edges, from: $0, includingStart: false) }
    }

    func reachable(from start: Int, includingStart: Bool) -> Set<Int> {
        includingStart ? forward[start].union([start]) : forward[start]
    }

    func dispatches(_ phase: Int, _ branch: Int) -> Bool {
        workflow.phases[phase].dispatch.contains { $0.branch == branch }
    }

    /// Branches dispatched by some phase on a path from the initial phase to `target`
    /// (the target itself included: it dispatches on entry, before its joins are checked).
    func branchesDispatched(onPathTo target: Int) -> Set<Int> {
        let fromInitial = reachable(from: workflow.initialPhase, includingStart: true)
        var result: Set<Int> = []
        for phase in fromInitial where phase == target || forward[phase].contains(target) {
            for rule in workflow.phases[phase].dispatch { result.insert(rule.branch) }
        }
        return result
    }

    /// Nodes reachable from `start` along `edges`; `start` itself only if `includingStart`
    /// or if a cycle leads back to it.
    static func closure(_ edges: [[Int]], from start: Int, includingStart: Bool) -> Set<Int> {
        var seen: Set<Int> = includingStart ? [start] : []
        var stack = edges[start]
        while let node = stack.popLast() {
            if seen.insert(node).inserted { stack.append(contentsOf: edges[node]) }
        }
        return seen
    }
}
