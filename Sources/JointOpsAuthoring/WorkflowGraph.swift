public import JointOpsCore

/// Renders a workflow's phases and branch steps as a Mermaid state diagram or Graphviz DOT.
public enum WorkflowGraph {
    public enum Format: String, Sendable, CaseIterable {
        case mermaid, dot
    }

    public static func render(_ workflow: Workflow, as format: Format) -> String {
        switch format {
        case .mermaid: mermaid(workflow)
        case .dot: dot(workflow)
        }
    }

    /// Every labelled edge of the phase machine: events (with guards, and the phase timer
    /// that fires one by itself: `deploy (timer: after 10m)`), joins, close and cancel.
    static func phaseEdges(_ workflow: Workflow) -> [(from: String, to: String, label: String)] {
        var edges: [(String, String, String)] = []
        for phase in workflow.phases {
            for event in phase.events {
                let timers = phase.timers.filter { $0.event == event.name }.map { "after \($0.delay)" }
                for alternative in event.alternatives {
                    edges.append(
                        (
                            phase.name, workflow.phases[alternative.target].name,
                            event.name + (alternative.guardSource.map { " [\($0)]" } ?? "")
                                + (timers.isEmpty ? "" : " (timer: \(timers.joined(separator: ", ")))")
                        ))
                }
            }
            for join in phase.joins {
                let scope = join.of.map { $0.map { workflow.branches[$0].name }.joined(separator: ", ") } ?? "required"
                edges.append(
                    (
                        phase.name, workflow.phases[join.target].name,
                        "join: \(join.quantifier.rawValue) \(join.condition.rawValue) (\(scope))"
                    ))
            }
        }
        for phase in workflow.closeFrom { edges.append((workflow.phases[phase].name, "closed", "close")) }
        return edges
    }

    /// Each deadline as one line: `on_scene: swat.on_scene within 15m of swat.dispatched;
    /// then after 5m notify duty_commander, after 10m reinforce swat`.
    static func deadlineLines(_ workflow: Workflow) -> [(branch: Int?, phase: Int?, text: String)] {
        workflow.deadlines.map { deadline in
            var text =
                "deadline \(deadline.id): \(workflow.name(of: deadline.reach)) within \(deadline.within) of \(workflow.name(of: deadline.from))"
            let rungs = deadline.ladder.map { "after \($0.after) \(workflow.name(of: $0.action))" }
            if !rungs.isEmpty { text += "; then " + rungs.joined(separator: ", ") }
            var phase: Int?
            if case .phase(let index) = deadline.reach { phase = index }
            return (deadline.branch, deadline.branch == nil ? phase : nil, text)
        }
    }

    static func stepEdges(_ branch: BranchDefinition) -> [(from: String, to: String, label: String)] {
        branch.steps.flatMap { step in
            step.next.map { (step.name, branch.steps[$0].name, "") }
                + step.outcomes.map { (step.name, branch.steps[$0.target].name, $0.name) }
        }
    }

    private static func mermaid(_ workflow: Workflow) -> String {
        func label(_ text: String) -> String { text.replacingAll(":", with: "∶").replacingAll("\"", with: "'") }
        var lines = ["---", "title: \(workflow.id) v\(workflow.version) — \(workflow.title)", "---", "stateDiagram-v2"]
        lines.append("    [*] --> \(workflow.phases[workflow.initialPhase].name)")
        for edge in phaseEdges(workflow) {
            lines.append("    \(edge.from) --> \(edge.to) : \(label(edge.label))")
        }
        lines.append("    note right of \(workflow.phases[workflow.initialPhase].name) : cancel is accepted in every phase")
        lines.append("    closed --> [*]")
        lines.append("    cancelled --> [*]")
        for phase in workflow.phases where !phase.dispatch.isEmpty {
            let names = phase.dispatch.map { rule in workflow.branches[rule.branch].name + (rule.guardSource.map { " if \($0)" } ?? "") }
            lines.append("    note left of \(phase.name) : dispatch \(label(names.joined(separator: ", ")))")
        }
        for branch in workflow.branches {
            lines.append("    state \"branch \(branch.name) (\(branch.kind.rawValue))\" as branch_\(branch.name) {")
            for step in branch.steps where step.optional {
                lines.append("        state \"\(step.name) (optional)\" as \(branch.name)_\(step.name)")
            }
            lines.append("        [*] --> \(branch.name)_\(branch.steps[branch.initialStep].name)")
            for edge in stepEdges(branch) {
                lines.append(
                    "        \(branch.name)_\(edge.from) --> \(branch.name)_\(edge.to)"
                        + (edge.label.isEmpty ? "" : " : \(label(edge.label))"))
            }
            for step in branch.steps where step.end != nil {
                lines.append("        \(branch.name)_\(step.name) --> [*]")
            }
            lines.append("    }")
        }
        // One note per state, a line per deadline: Mermaid draws two notes of one state on top of each other.
        var notes: [(state: String, lines: [String])] = []
        for deadline in deadlineLines(workflow) {
            let state =
                deadline.branch.map { "branch_" + workflow.branches[$0].name }
                ?? workflow.phases[deadline.phase ?? workflow.initialPhase].name
            if let at = notes.firstIndex(where: { $0.state == state }) {
                notes[at].lines.append(deadline.text)
            } else {
                notes.append((state, [deadline.text]))
            }
        }
        for note in notes {
            lines.append("    note right of \(note.state)")
            lines += note.lines.map { "        \(label($0))" }
            lines.append("    end note")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func dot(_ workflow: Workflow) -> String {
        /// A DOT string of one or more lines: each line escaped, then the lines joined with
        /// DOT's line break `\n` (escaping after joining would turn the break into a backslash).
        func quote(lines: [String]) -> String {
            "\"" + lines.map { $0.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"") }.joined(separator: "\\n") + "\""
        }
        func quote(_ text: String) -> String { quote(lines: [text]) }
        var lines = [
            "digraph \(quote(workflow.id)) {", "    label=\(quote("\(workflow.id) v\(workflow.version) — \(workflow.title)"));",
            "    rankdir=LR;", "    node [shape=box, style=rounded];",
        ]
        lines.append("    subgraph cluster_phases {")
        lines.append("        label=\"phases\";")
        lines.append("        start [shape=point];")
        lines.append("        closed [shape=doublecircle];")
        lines.append("        cancelled [shape=doublecircle];")
        for phase in workflow.phases {
            var label = [phase.name]
            if let title = phase.title { label.append("\(title)") }
            if !phase.dispatch.isEmpty {
                label.append("dispatch: " + phase.dispatch.map { workflow.branches[$0.branch].name }.joined(separator: ", "))
            }
            lines.append("        \(quote("phase_" + phase.name)) [label=\(quote(lines: label))];")
        }
        lines.append("        start -> \(quote("phase_" + workflow.phases[workflow.initialPhase].name));")
        for edge in phaseEdges(workflow) {
            let to = edge.to == "closed" ? "closed" : "phase_" + edge.to
            lines.append("        \(quote("phase_" + edge.from)) -> \(quote(to)) [label=\(quote(edge.label))];")
        }
        let deadlines = deadlineLines(workflow)
        let operationDeadlines = deadlines.filter { $0.branch == nil }.map(\.text)
        if !operationDeadlines.isEmpty {
            lines.append("        deadlines [shape=note, label=\(quote(lines: operationDeadlines))];")
        }
        lines.append("    }")
        for (index, branch) in workflow.branches.enumerated() {
            lines.append("    subgraph \(quote("cluster_branch_" + branch.name)) {")
            lines.append("        label=\(quote("branch \(branch.name) (\(branch.kind.rawValue))"));")
            let branchDeadlines = deadlines.filter { $0.branch == index }.map(\.text)
            if !branchDeadlines.isEmpty {
                lines.append("        \(quote(branch.name + ".deadlines")) [shape=note, label=\(quote(lines: branchDeadlines))];")
            }
            for step in branch.steps {
                let shape = step.end != nil ? ", shape=doubleoctagon" : (step.optional ? ", style=\"rounded,dashed\"" : "")
                lines.append("        \(quote(branch.name + "." + step.name)) [label=\(quote(step.name))\(shape)];")
            }
            for edge in stepEdges(branch) {
                lines.append(
                    "        \(quote(branch.name + "." + edge.from)) -> \(quote(branch.name + "." + edge.to))"
                        + (edge.label.isEmpty ? ";" : " [label=\(quote(edge.label))];"))
            }
            lines.append("    }")
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }
}

extension String {
    /// Replaces every occurrence of `target` (no Foundation needed).
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var result = ""
        for character in self {
            if character == target { result += replacement } else { result.append(character) }
        }
        return result
    }
}
