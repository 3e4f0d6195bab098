import Foundation
import JointOpsCore

/// Branch-step commands per second on one core, for armed-response operations: each
/// operation is started, assessed and dispatched (not timed), then every branch is advanced
/// step by step to `completed` (timed). The baseline is the floor of such a loop: the same
/// number of commands, each only writing a step number into an array.
enum EngineBenchmark {
    /// An armed-response operation from `workflowFile`, started, assessed and dispatched at
    /// `start` and the minutes after it.
    static func dispatchedOperation(_ workflowFile: URL, id: String, start: Int64 = 0) throws -> (Workflow, OperationState) {
        let source = try String(contentsOf: workflowFile, encoding: .utf8)
        guard let workflow = WorkflowLoader.load(source: source, file: workflowFile.path).workflow else {
            fatalError("\(workflowFile.path) does not validate; run jointopsctl workflow validate")
        }
        var (state, _) = try OperationState.start(
            workflow, id: id, region: "hexi", attributes: ["incident_type": "armed_robbery", "priority": "P1", "weapon_involved": "true"],
            at: Instant(milliseconds: start), actor: nil)
        _ = try state.handle(.fire(event: "assess"), at: Instant(milliseconds: start + 60_000), actor: nil)
        _ = try state.handle(.fire(event: "dispatch"), at: Instant(milliseconds: start + 120_000), actor: nil)
        return (workflow, state)
    }

    static func run(workflowFile: URL, operations: Int) throws {
        let (workflow, template) = try dispatchedOperation(workflowFile, id: "OP-BENCH")
        let commands = template.branches.flatMap { instance in
            pathToCompletion(workflow.branches[instance.definition]).map { step in
                Command.advance(branch: instance.name, to: workflow.branches[instance.definition].steps[step].name, outcome: nil)
            }
        }
        let total = commands.count * operations
        print(
            "engine: \(operations) armed-response operations, \(template.branches.count) branches each, \(commands.count) branch-step commands per operation (\(total) in all)"
        )

        var engineTimes: [Double] = []
        var baselineTimes: [Double] = []
        let clock = ContinuousClock()
        for _ in 0..<3 {
            var states = [OperationState](repeating: template, count: operations)
            var accepted = 0
            let elapsed = clock.measure {
                for index in states.indices {
                    var at: Int64 = 180_000
                    for command in commands {
                        at += 1000
                        if let transition = try? states[index].handle(command, at: Instant(milliseconds: at), actor: nil) {
                            accepted += transition.events.count > 0 ? 1 : 0
                        }
                    }
                }
            }
            precondition(accepted == total, "only \(accepted) of \(total) commands were accepted")
            engineTimes.append(seconds(elapsed))

            var steps = [Int](repeating: 0, count: operations * 4)
            let baseline = clock.measure {
                for index in 0..<operations {
                    for (position, _) in commands.enumerated() { steps[index * 4 + position % 4] = position }
                }
            }
            precondition(steps.count == operations * 4)
            baselineTimes.append(seconds(baseline))
        }
        let rate = Double(total) / median(engineTimes)
        let baselineRate = Double(total) / median(baselineTimes)
        print(
            String(
                format: "engine: %.0f branch-step commands/s (%.0f ns each); target ≥ 1,000,000/s: %@", rate, 1e9 / rate,
                rate >= 1_000_000 ? "met" : "NOT met"))
        print(
            String(format: "engine: baseline loop %.0f commands/s; the engine costs %.1f× the bare loop", baselineRate, baselineRate / rate)
        )
    }

    /// The shortest path of steps from the initial step to one that ends `completed`.
    static func pathToCompletion(_ branch: BranchDefinition) -> [Int] {
        var previous: [Int: Int] = [:]
        var queue = [branch.initialStep]
        var position = 0
        while position < queue.count {
            let step = queue[position]
            position += 1
            if branch.steps[step].end == .completed {
                var path: [Int] = []
                var current = step
                while current != branch.initialStep, let before = previous[current] {
                    path.append(current)
                    current = before
                }
                return path.reversed()
            }
            for next in branch.steps[step].next + branch.steps[step].outcomes.map(\.target)
            where previous[next] == nil && next != branch.initialStep {
                previous[next] = step
                queue.append(next)
            }
        }
        return []
    }
}
