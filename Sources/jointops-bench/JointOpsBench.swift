import Foundation
import JointOpsCore

/// `jointops-bench engine`: engine throughput and validator speed; `jointops-bench store`:
/// durable throughput, its ceiling, and recovery; `jointops-bench selection`: unit
/// selection among 10,000 units in a 2,000-node tree. Run in release:
/// `swift run -c release jointops-bench engine` (or `store`). `crash-writer` serves the crash test, `recover-store` the store benchmark.
@main
enum JointOpsBench {
    static func main() async throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        let quick = arguments.contains("--quick")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        switch arguments.first {
        case "engine":
            try EngineBenchmark.run(
                workflowFile: root.appendingPathComponent("Workflows/armed-response.yaml"), operations: quick ? 10_000 : 150_000)
            ValidatorBenchmark.run(phases: 500, steps: 2000, repetitions: quick ? 2 : 7)
            try ViewBenchmark.run(
                workflowFile: root.appendingPathComponent("Workflows/armed-response.yaml"), repetitions: quick ? 20_000 : 100_000)
        case "store":
            try await StoreBenchmark.run(
                workflowsFolder: root.appendingPathComponent("Workflows"), writers: 64, seconds: quick ? 1 : 5,
                recoveryOperations: quick ? 10_000 : 100_000)
        case "daemon":
            try DaemonBenchmark.run(root: root, quick: quick)
        case "report":
            try ReportBenchmark.run(workflowsFolder: root.appendingPathComponent("Workflows"), operations: quick ? 50_000 : 1_000_000)
        case "timers":
            try await TimerBenchmark.run(root: root, quick: quick)
        case "selection":
            try SelectionBenchmark.run(nodes: 2_000, units: 10_000, dispatches: quick ? 20_000 : 200_000)
        case "dispatch-race":
            try DispatchRaceBenchmark.run(root: root, operations: quick ? 200 : 1_000, units: 100)
        case "commit-cost":
            try CommitCostBenchmark.run(root.appendingPathComponent("Workflows"))
        case "recover-store" where arguments.count == 2:
            try StoreBenchmark.recoverInFreshProcess(path: arguments[1])
        case "crash-writer" where arguments.count == 4:
            try await CrashWriter.run(store: arguments[1], workflows: arguments[2], run: arguments[3])
        default:
            FileHandle.standardError.write(
                Data(
                    "usage: jointops-bench engine|store|daemon|report|timers|selection|dispatch-race [--quick] | commit-cost | crash-writer STORE WORKFLOWS RUN | recover-store STORE\n"
                        .utf8)
            )
            exit(64)
        }
    }
}

/// Median of measured durations, in seconds.
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
