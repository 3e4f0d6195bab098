import JointOpsCore

/// Units whose change is not yet durable. A command changes the roster in memory before its
/// commit (so that two dispatches cannot take the same unit) and undoes it if the commit fails.
/// Reproducer (a concurrency audit, a full disk under load): a second command changed such a
/// unit on top (a status, a preemption, a dispatch of a unit the first had freed); when the
/// first commit failed its undo had to leave the unit as the second left it, and the roster
/// kept a change that was never stored — a unit on two branches, or on a branch instance its
/// operation did not have (and the next command taking it off that instance crashed
/// jointopsd); a later commit then wrote that state into the log. Now a command waits for the
/// units it names to be settled, and a dispatch does not choose a unit in flight.
extension OperationEngine {
    func beginChanging(_ units: [String]) {
        for id in units { unitsInFlight[id, default: 0] += 1 }
    }

    func endChanging(_ units: [String]) {
        for id in units {
            if let count = unitsInFlight[id], count > 1 { unitsInFlight[id] = count - 1 } else { unitsInFlight[id] = nil }
        }
        guard !units.isEmpty, !unitWaiters.isEmpty else { return }
        let waiters = unitWaiters
        unitWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once none of `units` is in flight. No await follows it in its callers before
    /// they change the units, so they change them as stored, or as another command left them
    /// durably.
    func settle(_ units: some Collection<String>) async {
        while units.contains(where: { unitsInFlight[$0] != nil }) {
            await withCheckedContinuation { unitWaiters.append($0) }
        }
    }

    /// Units a dispatch must not choose now.
    var unitsChanging: Set<String> { unitsInFlight.isEmpty ? [] : Set(unitsInFlight.keys) }
}
