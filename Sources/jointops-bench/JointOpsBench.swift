import Foundation
import JointOpsCore

/// `jointops-bench engine`: engine throughput and validator speed, with the figures the
/// foundation issue asks for. Run in release: `swift run -c release jointops-bench engine`.
@main
enum JointOpsBench {
    static func main() async throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "crash-writer", arguments.count == 4 {
            try await CrashWriter.run(store: arguments[1], workflows: arguments[2], run: arguments[3])
            return
        }
        guard arguments.first == "engine" else {
            FileHandle.standardError.write(Data("usage: jointops-bench engine [--quick] | crash-writer STORE WORKFLOWS RUN\n".utf8))
            exit(64)
        }
        let quick = arguments.contains("--quick")
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        try EngineBenchmark.run(
            workflowFile: root.appendingPathComponent("Workflows/armed-response.yaml"), operations: quick ? 10_000 : 150_000)
        ValidatorBenchmark.run(phases: 500, steps: 2000, repetitions: quick ? 2 : 7)
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
