import JointOpsProtocol

/// jointopsd's own account of its commits, read over the socket from its metrics
/// (`jointops_commit_wait_seconds`, `jointops_commit_transaction_seconds`, and
/// `jointops_command_duration_seconds` of Note): the histograms' sums and counts, so two
/// readings give the means over the phase between them.
struct CommitTimes {
    var waitSeconds = 0.0
    var waits = 0.0
    var transactionSeconds = 0.0
    var transactions = 0.0
    /// `jointops_command_duration_seconds` of Note: from the call's dispatch to its reply
    /// being ready, inside jointopsd (no socket, no client).
    var noteSeconds = 0.0
    var notes = 0.0

    static func read(socket: String) throws -> CommitTimes {
        let reply = try VarlinkClient(socketPath: socket).call("io.jointops.Admin.Metrics")
        guard reply.error == nil, let text = reply.parameters["text"]?.stringValue else {
            throw BenchmarkFailure("reading jointopsd's metrics: \(reply)")
        }
        var times = CommitTimes()
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 2, let value = Double(fields[1]) else { continue }
            switch fields[0] {
            case "jointops_commit_wait_seconds_sum": times.waitSeconds = value
            case "jointops_commit_wait_seconds_count": times.waits = value
            case "jointops_commit_transaction_seconds_sum": times.transactionSeconds = value
            case "jointops_commit_transaction_seconds_count": times.transactions = value
            case #"jointops_command_duration_seconds_sum{method="Note"}"#: times.noteSeconds = value
            case #"jointops_command_duration_seconds_count{method="Note"}"#: times.notes = value
            default: continue
            }
        }
        return times
    }

    /// The commits between `earlier` and this reading.
    func since(_ earlier: CommitTimes) -> CommitTimes { combined(with: earlier, by: -) }

    /// The sum of two phases' readings (each from `since`).
    func adding(_ other: CommitTimes) -> CommitTimes { combined(with: other, by: +) }

    /// Each sum and count of this reading with the same one of `other`.
    private func combined(with other: CommitTimes, by operation: (Double, Double) -> Double) -> CommitTimes {
        CommitTimes(
            waitSeconds: operation(waitSeconds, other.waitSeconds), waits: operation(waits, other.waits),
            transactionSeconds: operation(transactionSeconds, other.transactionSeconds),
            transactions: operation(transactions, other.transactions), noteSeconds: operation(noteSeconds, other.noteSeconds),
            notes: operation(notes, other.notes))
    }

    /// Mean wait of a command before its transaction began, in milliseconds.
    var meanWait: Double { waits > 0 ? waitSeconds / waits * 1000 : 0 }
    /// Mean time of a transaction, fsync included, in milliseconds.
    var meanTransaction: Double { transactions > 0 ? transactionSeconds / transactions * 1000 : 0 }
    var commandsPerTransaction: Double { transactions > 0 ? waits / transactions : 0 }
    /// Mean time of a Note inside jointopsd, in milliseconds.
    var meanNote: Double { notes > 0 ? noteSeconds / notes * 1000 : 0 }
}
