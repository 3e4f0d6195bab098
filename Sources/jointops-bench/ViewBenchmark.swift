import Foundation
import JointOpsCore
import JointOpsDaemon

/// The operation view every command's reply carries (and every watcher receives): how long
/// jointopsd takes to write it for a dispatched armed-response operation, three branches
/// with their steps, armed deadlines and an open escalation. The baseline is a copy of its
/// bytes, the least any reply costs.
enum ViewBenchmark {
    static func run(workflowFile: URL, repetitions: Int) throws {
        var (_, state) = try EngineBenchmark.dispatchedOperation(workflowFile, id: "OP-20261129-000001", start: 1_795_910_400_000)
        _ = try state.handle(.escalate(reason: "crowd growing", to: nil), at: Instant(milliseconds: 1_795_910_580_123), actor: nil)
        let view = Views.operation(state).canonicalBytes
        let clock = ContinuousClock()
        var viewTimes: [Double] = []
        var copyTimes: [Double] = []
        var sink = 0
        for _ in 0..<5 {
            viewTimes.append(
                seconds(
                    clock.measure {
                        for _ in 0..<repetitions { sink &+= Views.operation(state).canonicalBytes.count }
                    }) / Double(repetitions))
            copyTimes.append(
                seconds(
                    clock.measure {
                        for _ in 0..<repetitions {
                            var copy: [UInt8] = []
                            copy.reserveCapacity(view.count)
                            copy.append(contentsOf: view)
                            sink &+= Int(copy[sink % copy.count])
                        }
                    }) / Double(repetitions))
        }
        precondition(sink > 0)
        print(
            String(
                format: "views: an operation's view (%d bytes, %d branches): %.2f µs each; a copy of its bytes %.2f µs (%.0f× less)",
                view.count, state.branches.count, median(viewTimes) * 1e6, median(copyTimes) * 1e6,
                median(viewTimes) / median(copyTimes)))
    }
}
