import Foundation
import JointOpsCore

/// Time to parse and validate a generated workflow of `phases` phases and `steps` steps.
enum ValidatorBenchmark {
    static func run(phases: Int, steps: Int, repetitions: Int) {
        let source = generate(phases: phases, steps: steps)
        var times: [Double] = []
        let clock = ContinuousClock()
        for _ in 0..<repetitions {
            var diagnostics: [Diagnostic] = []
            let elapsed = clock.measure {
                diagnostics = WorkflowLoader.load(source: source, file: "generated.yaml").diagnostics
            }
            precondition(diagnostics.isEmpty, "the generated workflow is invalid: \(diagnostics.prefix(3))")
            times.append(seconds(elapsed))
        }
        let milliseconds = median(times) * 1000
        print(
            String(
                format: "validator: %d phases, %d steps, %d KiB of YAML: %.1f ms (median of %d); target < 200 ms: %@", phases, steps,
                source.utf8.count / 1024, milliseconds, repetitions, milliseconds < 200 ? "met" : "NOT met"))
    }

    /// A chain of phases, each dispatching a branch of `steps / branches` steps and joining
    /// on it, with guards, deadlines and escalation ladders throughout.
    static func generate(phases: Int, steps: Int) -> String {
        let branches = phases / 5
        let stepsPerBranch = steps / branches
        var text =
            "workflow: generated\nversion: 1\ntitle: Generated\nattributes:\n  priority: {type: priority, required: true}\n  count: {type: int}\nphases:\n"
        for phase in 0..<phases {
            text += "  p\(phase):\n"
            if phase == 0 { text += "    initial: true\n" }
            if phase + 1 < phases {
                text +=
                    "    on:\n      next:\n        - {to: p\(phase + 1), when: \"priority <= P2 or count > \(phase)\"}\n        - {to: p\(phase + 1)}\n"
                if phase > 0 { text += "      back: p\(phase - 1)\n" }
            }
            if phase % 5 == 0, phase / 5 < branches {
                text += "    dispatch:\n      - {branch: b\(phase / 5), when: \"priority <= P3\"}\n"
                if phase + 1 < phases { text += "    join:\n      - {all: ended, of: [b\(phase / 5)], to: p\(phase + 1)}\n" }
            }
        }
        text += "branches:\n"
        for branch in 0..<branches {
            text += "  b\(branch):\n    kind: other\n    steps:\n"
            for step in 0..<(stepsPerBranch - 2) {
                let next = step + 1 < stepsPerBranch - 2 ? "s\(step + 1)" : "done"
                text +=
                    "      s\(step): {\(step == 0 ? "initial: true, " : "")next: [\(next), stood_down]\(step % 3 == 1 ? ", optional: true" : "")}\n"
            }
            text += "      done: {end: completed}\n      stood_down: {end: stood_down}\n"
        }
        text += "deadlines:\n"
        for branch in 0..<branches {
            text +=
                "  - id: d\(branch)\n    reach: b\(branch).done\n    from: b\(branch).s0\n    within: 30m\n    escalation:\n      - {after: 0m, notify: branch_lead}\n      - {after: 5m, notify: duty_commander}\n"
        }
        text += "close:\n  from: [p\(phases - 1)]\n  dispositions: [done]\n"
        return text
    }
}
