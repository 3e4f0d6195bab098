import JointOpsCore
import JointOpsProtocol
import JointOpsStore

/// The engine's read methods: one operation, what is overdue, the after-action report, the
/// workflows, the chain's verification (the audit trail is in OperationEngine+History).
extension OperationEngine {
    public func show(_ id: String) async throws(VarlinkError) -> JSONValue {
        if let state = operations[id] { return .object(["operation": Views.operation(state)]) }
        guard let state = try await readAway({ store throws(StoreError) in try store.operation(id) }) else {
            throw VarlinkError("io.jointops.Operations.OperationNotFound", ["id": .string(id)])
        }
        return .object(["operation": Views.operation(state)])
    }

    /// Every open escalation of a missed deadline, the latest first: built away from the
    /// engine, from the open operations as they are now (a copy that costs nothing until the
    /// engine's next change). Built on the engine, 110,000 open escalations (a restart after
    /// an outage) held every other call 0.85 s, and one client polling them made deadlines
    /// fire up to 0.7 s late (a deadline-storm audit).
    public func overdue(region: String?, branch: String?) async throws(VarlinkError) -> JSONValue {
        let filter = try checked(ListFilter(region: region, branch: branch))
        let snapshot = operations
        return await awayFromEngine { Self.overdue(in: snapshot, filter: filter, branch: branch) }.get()
    }

    private static func overdue(in snapshot: [String: OperationState], filter: ListFilter, branch: String?) -> JSONValue {
        var rows: [(Instant, JSONValue)] = []
        for state in snapshot.values where filter.matches(state) {
            for escalation in state.escalations where escalation.isOpen {
                guard let key = escalation.timer else { continue }
                let deadline = state.workflow.deadlines[key.index]
                let instance = key.instance >= 0 ? state.branches[key.instance] : nil
                if let branch, instance.map({ state.workflow.branches[$0.definition].name }) != branch { continue }
                var told: Set<String> = []
                let alerted =
                    (["command_center"]
                    + deadline.ladder.prefix(escalation.rungsFired).compactMap { rung -> String? in
                        switch rung.action {
                        case .notify(let audience): audience
                        case .reinforce(let branch): "reinforcement: \(state.workflow.branches[branch].name)"
                        case .event(let event): "event: \(event)"
                        }
                    }).filter { told.insert($0).inserted }  // each once, in the order first told
                rows.append(
                    (
                        escalation.openedAt,
                        .object([
                            "operation": .string(state.id), "workflow": .string(state.workflow.id), "region": .string(state.region),
                            "priority": Views.optional(Views.priority(state)), "heldReason": Views.optional(state.hold?.reason),
                            "deadline": .string(deadline.id), "title": Views.optional(deadline.title?.description),
                            "instance": Views.optional(instance?.name), "missedAt": Views.time(escalation.openedAt),
                            "escalation": .int(Int64(escalation.number)), "rungsFired": .int(Int64(escalation.rungsFired)),
                            "alerted": .array(alerted.map(JSONValue.string)),
                            "acknowledgedAt": escalation.acknowledgedAt.map(Views.time) ?? .null,
                        ])
                    ))
            }
        }
        return .object(["overdue": .array(rows.sorted { $0.0 > $1.0 }.map(\.1))])
    }

    /// The after-action report: the operation, its deadlines planned against actual, its
    /// whole trail (unpaged); read and built away from the engine, as `history`.
    public func report(_ id: String) async throws(VarlinkError) -> JSONValue {
        let report = try await readAway { store throws(StoreError) -> JSONValue? in
            let stored = try store.events(of: id)
            // The state read after the events, so it has every branch instance they name
            // (a command may commit in between; the engine's copy could be older than both).
            guard !stored.isEmpty, let state = try store.operation(id) else { return nil }
            return Self.afterActionReport(state, stored)
        }
        guard let report else { throw VarlinkError("io.jointops.Operations.OperationNotFound", ["id": .string(id)]) }
        return report
    }

    private static func afterActionReport(_ state: OperationState, _ stored: [StoredEvent]) -> JSONValue {
        let workflow = state.workflow
        let runs = OperationState.deadlineHistory(workflow, History.decode(stored, workflow: workflow))
        let deadlines: [JSONValue] = runs.map { run in
            let deadline = workflow.deadlines[run.deadline]
            return .object([
                "deadline": .string(deadline.id), "title": Views.optional(deadline.title?.description),
                "instance": Views.optional(run.instance.flatMap { state.branches.indices.contains($0) ? state.branches[$0].name : nil }),
                "armedAt": Views.time(run.armedAt),
                "due": Views.time(run.due), "outcome": .string(run.outcome.rawValue), "settledAt": run.settledAt.map(Views.time) ?? .null,
                "escalation": run.escalation.map { .int(Int64($0)) } ?? .null,
            ])
        }
        return .object([
            "operation": Views.operation(state), "deadlines": .array(deadlines),
            "events": .array(History.events(stored, workflow: workflow)),
        ])
    }

    public func workflows() -> JSONValue {
        .object(["workflows": .array(catalog.current.values.sorted { $0.id < $1.id }.map(Views.workflow))])
    }

    /// Walks the whole chain away from the engine (`awayFromEngine`): commands go on meanwhile.
    public nonisolated func verify() async throws(VarlinkError) -> JSONValue {
        let store = store
        let report = try await awayFromEngine(.admin) { () throws(StoreError) in try store.verifyChain() }.mapError(
            VarlinkError.adminStorageFailure
        )
        .get()
        metrics.eventLogVerified(intact: report.isIntact)
        await verified(report)
        return .object([
            "intact": .bool(report.isIntact), "eventsChecked": .int(Int64(report.eventsChecked)), "headHash": .string(report.headHash),
            "brokenAt": report.firstBreak.map { .int($0.sequence) } ?? .null,
            "reason": report.firstBreak.map { .string($0.reason) } ?? .null,
        ])
    }

    /// Says what a whole-chain verification found where an administrator looks, not only to
    /// its caller: a break at critical level, once for each verify that finds it, and at the
    /// head of systemd's status until a later verify finds the chain intact (or jointopsd
    /// restarts and its own check decides); an intact chain at notice level, whatever
    /// `log_level` says, with the line docs/storage.md tells administrators to keep off the
    /// machine.
    private func verified(_ report: ChainReport) {
        let before = eventLogBrokenAt
        if let broken = report.firstBreak {
            logger.critical(
                "jointopsctl admin verify found the event log broken at event \(broken.sequence): \(broken.reason) (\(report.eventsChecked) events before it verify). The record from that event on cannot be trusted: a row was changed, deleted or added behind jointopsd's back, or the disk damaged it. Stop jointopsd (systemctl stop jointopsd.socket jointopsd), keep the database file and its -wal as they are, restore the latest backup and verify it (docs/storage.md, \"Restore\")",
                metadata: ["message_id": "\(JournalMessageID.eventLogBrokenByVerify)"])
            eventLogBrokenAt = broken.sequence
        } else {
            logger.noticeAtAnyLevel("event log verified (jointopsctl admin verify): \(report)")
            eventLogBrokenAt = nil
        }
        // At once, not at the next status period: the administrator may be looking now.
        if eventLogBrokenAt != before { Systemd.notify("STATUS=\(status())") }
    }

}
