import JointOpsCore

/// A fill pass again after a commit that failed left units free. The undo of a failed fill
/// (or dispatch, or a change of a unit a pass had skipped while it was in flight) puts its
/// units back on the roster, and nothing else would try again until some later command
/// freed a unit: an idle center kept a free unit while a branch awaited one. Reproducer (a
/// concurrency audit, a full disk under load): a free unit left while branches awaited, 3
/// of 8 runs. The pass is tried again 1 s later, then 2, 4 … up to 30 s (as a due timer the
/// store could not record), until one commits.
extension OperationEngine {
    /// After `work`'s commit failed and was undone.
    func fillAgainLater(afterUndoing work: UnitWork) {
        guard !fillRetry.scheduled, let roster,
            work.touched.contains(where: { id in roster.unit(id).map { $0.isSelectable && $0.assignment == nil } ?? false }),
            operations.values.contains(where: { $0.hold == nil && $0.branches.contains(where: \.isAwaitingUnits) })
        else { return }
        fillRetry.attempts += 1
        fillRetry.scheduled = true
        let delay = Duration.milliseconds(Self.retryDelayMilliseconds(afterFailures: fillRetry.attempts))
        logger.notice(
            "a commit that failed left units free while branches await them: filling again in \(delay.components.seconds) s")
        Task { [weak self] in
            try? await Task.sleep(for: delay)
            await self?.fillRetryDue()
        }
    }

    private func fillRetryDue() {
        fillRetry.scheduled = false
        awaitingMayBeFilled()
    }

    /// A commit that changed units went through: the next failure waits 1 s again.
    func unitsCommitted() {
        fillRetry.attempts = 0
    }
}

/// Whether a fill pass is due again after a failed commit, and how many have been due in a row.
struct FillRetry {
    var scheduled = false
    var attempts = 0
}
