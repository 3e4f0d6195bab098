import Foundation
import JointOpsCore
import JointOpsProtocol
import JointOpsStore
import Logging

/// The one writer: owns the in-memory state of open operations, applies commands through
/// the pure engine, makes their events durable (group commit) before anyone hears "done",
/// then arms timers and tells watchers. Commands on one operation run one at a time;
/// different operations proceed concurrently and share transactions.
public actor OperationEngine {
    let store: EventStore
    let committer: GroupCommitter
    let logger: Logger
    let hub: WatchHub
    public let timers: TimerScheduler
    public let metrics: DaemonMetrics
    /// The wall clock (`WallClock.now`; a test's own clock in tests). Changes to operations
    /// take their time from `eventTime(for:)`, which never goes back.
    public let clock: @Sendable () -> Instant
    var catalog: WorkflowCatalog
    var operations: [String: OperationState] = [:]
    /// The jurisdiction and every unit; nil when no regions file is configured (regions are
    /// then not checked and no units are dispatched).
    var roster: UnitRoster?
    /// Where the jurisdiction was read from, for reloads.
    let regionsPath: String?
    /// Counts the changes after which awaiting branches may be filled (`UnitWork.mayFill`);
    /// a fill pass starts over when it changes.
    var fillGeneration = 0
    /// Units an operator took off a branch and set available (`Units.SetStatus`), with the
    /// unit as it was then: the fill gives none back to that branch while it stays so.
    var keptOff: [String: (assignment: UnitAssignment, unit: JointOpsCore.Unit)] = [:]
    /// Whether a fill pass is running, and whether it must run once more.
    var filling = false
    var fillAgain = false
    /// Operations with a command in flight, and who waits for them.
    private var busy = Turns()
    /// Operations whose current command is past the committer (durable, finishing up): no
    /// longer company a batch could wait for.
    private var pastCommitter: Set<String> = []
    /// Client request ids with a call in flight, and the calls with the same id that wait for
    /// it to finish (then they get its reply, or run if it applied nothing).
    private var requestsInFlight = Turns()
    private var generatedToday: (day: String, next: Int) = ("", 1)
    /// Timers whose firing the store could not record, by operation and key: how many
    /// attempts have failed. Each is armed again, later and later, until one is stored.
    private var timerRetries: [String: [TimerKey: Int]] = [:]
    /// Operations whose events are held at their last change because the system clock
    /// stepped back, with that time: the journal has been told (once per operation and step).
    private var clockBehind: [String: Instant] = [:]
    /// Whether the last status found the store's file system nearly full (said once when it
    /// becomes so, once when it has room again).
    private var diskNearlyFull = false
    /// The first broken event the last check of the event log's hash chain found — the
    /// start's check of its last events, then each `jointopsctl admin verify` of all of it —
    /// or nil when that check found it intact. While set it leads the status (systemd's
    /// STATUS=), where an administrator looks.
    var eventLogBrokenAt: Int64?
    /// The opening of the watches being subscribed now (`watch`), shared by those that
    /// subscribe at the same place in the log with the same filter.
    var opening: WatchOpening?
    /// Units changed in memory by commands whose commits are in flight, with how many such
    /// commands (`UnitsInFlight`); and the commands waiting for units to leave it.
    var unitsInFlight: [String: Int] = [:]
    var unitWaiters: [CheckedContinuation<Void, Never>] = []
    /// A fill pass due again because a failed commit left units free (`fillAgainLater`).
    var fillRetry = FillRetry()

    /// A timer cancelled meanwhile (its step met, its operation ended) no longer waits.
    private func forgetRetries(cancelledBy effects: [Effect], of id: String) {
        for case .cancelTimer(let key) in effects { timerRetries[id]?[key] = nil }
        if timerRetries[id]?.isEmpty == true { timerRetries[id] = nil }
    }

    /// Due timers that wait for the store to take them (for STATUS and the board).
    public var timersAwaitingStore: Int { timerRetries.values.reduce(0) { $0 + $1.count } }

    public init(
        store: EventStore, catalog: WorkflowCatalog, recovered: Recovery, metrics: DaemonMetrics, logger: Logger,
        roster: UnitRoster? = nil, regionsPath: String? = nil, eventLogBrokenAt: Int64? = nil,
        clock: @escaping @Sendable () -> Instant = WallClock.now
    ) {
        self.store = store
        self.eventLogBrokenAt = eventLogBrokenAt
        self.clock = clock
        self.roster = roster
        self.regionsPath = regionsPath
        self.metrics = metrics
        let faults = StoreFaultLog(logger: logger)
        let hub = WatchHub()
        committer = GroupCommitter(
            store: store, onBatch: { metrics.committed($0) },
            onFault: { fault in
                // Watchers (the wall board) hear of it whenever the journal does: when it
                // begins, every 30 s while it lasts (with the count so far), and when it ends.
                if faults.heard(fault) { hub.publish(storeFault: fault) }
            },
            onRefused: { faults.refused($0, commands: $1) })
        self.catalog = catalog
        self.logger = logger
        self.hub = hub
        timers = TimerScheduler()
        for state in recovered.operations { operations[state.id] = state }
        metrics.recovered(recovered.operations)
        if let roster { metrics.unitsLoaded(roster.units) }
    }

    /// Arms every recovered timer; overdue ones fire first, in due order.
    public func armRecoveredTimers(_ recovery: Recovery) async {
        for timer in recovery.timers { await timers.arm(operation: timer.operation, key: timer.key, due: timer.due) }
    }

    // MARK: Commands

    /// Starts an operation; the reply is its view.
    public func start(
        workflow name: String, region: String, attributes: [String: String], id: String?, requestID: RequestID?, caller: Caller
    ) async throws(VarlinkError) -> JSONValue {
        await holdRequest(requestID)
        defer { releaseRequest(requestID) }
        if let requestID, let earlier = try previousReply(requestID, method: "Start") { return earlier }
        guard let workflow = catalog.current[name] else {
            throw VarlinkError(
                "io.jointops.Operations.WorkflowNotFound",
                ["workflow": .string(name), "known": .array(catalog.current.keys.sorted().map(JSONValue.string))])
        }
        try checkRegion(region, parameter: "region")
        let now = clock()
        let generated = id == nil ? nextID(now) : nil
        let id = id ?? generated!
        var started = false
        defer { if let generated, !started { giveBack(generated: generated) } }
        await acquire(id)
        defer { release(id) }
        if let requestID, let earlier = try previousReply(requestID, method: "Start") { return earlier }
        if operations[id] != nil || (try? store.operation(id)) != nil {
            throw VarlinkError("io.jointops.Operations.OperationExists", ["id": .string(id)])
        }
        let (state, transition): (OperationState, Transition)
        do {
            (state, transition) = try OperationState.start(
                workflow, id: id, region: region, attributes: attributes, at: now, actor: caller.actor)
        } catch {
            throw Self.refused(error)
        }
        let reply = try await commit(state: state, before: nil, transition: transition, requestID: requestID, method: "Start")
        started = true
        return reply
    }

    /// Applies an operator command to an operation; the reply is its view.
    public func execute(
        _ command: Command, on id: String, method: String, requestID: RequestID?, caller: Caller?, namedUnits: NamedUnits? = nil
    ) async throws(VarlinkError) -> JSONValue {
        await holdRequest(requestID)
        defer { releaseRequest(requestID) }
        if let requestID, let earlier = try previousReply(requestID, method: method) { return earlier }
        await acquire(id)
        defer { release(id) }
        if let requestID, let earlier = try previousReply(requestID, method: method) { return earlier }
        let history = command.endsOperation ? await historyForEnding(id) : nil
        guard let before = operations[id] else {
            if let ended = (try? store.operation(id)) ?? nil {
                throw VarlinkError(
                    "io.jointops.Operations.CommandRefused",
                    [
                        "code": .string(Refusal.Code.operationEnded.rawValue),
                        "reason": .string(ended.endedReason),
                        "phase": .string(ended.phaseName), "allowed": .array([]),
                    ])
            }
            throw VarlinkError("io.jointops.Operations.OperationNotFound", ["id": .string(id)])
        }
        try checkArguments(of: command, on: before)
        var state = before
        let transition: Transition
        do {
            transition = try state.handle(command, at: eventTime(for: before), actor: caller?.actor)
        } catch {
            throw Self.refused(error)
        }
        return try await commit(
            state: state, before: before, transition: transition, requestID: requestID, method: method, namedUnits: namedUnits,
            history: history)
    }

    /// The stored history of an open operation a close or cancel is about to end, replayed
    /// away from the engine while the command holds the operation: its report facts are then
    /// built outside the transaction every command waits for (`EventStore.Change.history`).
    /// Nil if it cannot be read: the writer replays the log itself, as it always could.
    private func historyForEnding(_ id: String) async -> ReplayedHistory? {
        guard let workflow = operations[id]?.workflow else { return nil }
        return try? await readAway { store throws(StoreError) in try store.replayedHistory(of: id, workflow: workflow) }
    }

    /// A due timer fires; refusals (the timer was met meanwhile) are logged, not raised.
    /// A timer the store could not record (a full disk, say) is armed again — 1 s later, then
    /// 2, 4 … up to 30 s — so a deadline that falls due during a storage fault still fires,
    /// late and with its lateness recorded, once the store takes writes again. One the
    /// engine finds not yet due — the system clock stepped back after the scheduler took it —
    /// is armed again for its due time, as the operation has it: it fires when the clock
    /// gets there (later by the step), instead of never.
    func fire(_ key: TimerKey, of id: String) async {
        let retrying = timerRetries[id]?[key] != nil
        do {
            _ = try await execute(.timerFired(key), on: id, method: "timer", requestID: nil, caller: nil)
            if retrying {
                logger.notice("\(id): timer \(key) is recorded now, after the storage fault")
                timerRetries[id]?[key] = nil
                if timerRetries[id]?.isEmpty == true { timerRetries[id] = nil }
            }
        } catch  where error.isStorageFailure {
            let attempts = (timerRetries[id]?[key] ?? 0) + 1
            timerRetries[id, default: [:]][key] = attempts
            let delay = Self.retryDelayMilliseconds(afterFailures: attempts)
            await timers.arm(operation: id, key: key, due: clock() + delay)
            logger.error(
                "\(id): timer \(key) fell due but could not be recorded (\(error.parameters["message"]?.stringValue ?? "storage fault")); trying again in \(delay / 1000) s",
                metadata: ["operation": "\(id)", "message_id": "\(JournalMessageID.storageFault)"])
        } catch {
            if timerRetries[id]?.removeValue(forKey: key) != nil, timerRetries[id]?.isEmpty == true { timerRetries[id] = nil }
            if error.parameters["code"]?.stringValue == Refusal.Code.timerNotDue.rawValue,
                let timer = operations[id]?.runningTimers.first(where: { $0.key == key })
            {
                await timers.arm(operation: id, key: key, due: timer.due)
                logger.notice(
                    "\(id): timer \(key) is due at \(timer.due), but the system clock says \(clock()) (it stepped back): armed again for its due time",
                    metadata: ["operation": "\(id)"])
                return
            }
            logger.debug("timer \(key) of \(id) not applied: \(error)")
        }
    }

    /// The time a change to `state` happens at: the wall clock, but never before the
    /// operation's last change. So the events of one operation are in time order even when
    /// the system clock steps back (an NTP step, `date -s`): its intervals and lateness are
    /// never negative, and the report facts its close or cancel writes pass the store's
    /// checks (before, such an operation could be neither closed nor cancelled). Its events
    /// keep the last change's time until the clock catches up; a step back of more than a
    /// second is noted in the journal once per operation and step, not at every command.
    func eventTime(for state: OperationState) -> Instant {
        let wall = clock()
        guard wall < state.lastChangeAt else {
            if !clockBehind.isEmpty { clockBehind[state.id] = nil }
            return wall
        }
        let behind = state.lastChangeAt.since(wall)
        if behind > 1000, clockBehind[state.id] != state.lastChangeAt {
            clockBehind[state.id] = state.lastChangeAt
            logger.notice(
                "\(state.id): the system clock is \(WorkflowDuration.fixed(milliseconds: behind)) behind the operation's last change (\(state.lastChangeAt)), so it stepped back; its events keep that time until the clock catches up",
                metadata: ["operation": "\(state.id)"])
        }
        return state.lastChangeAt
    }

    private func commit(
        state: OperationState, before: OperationState?, transition: Transition, requestID: RequestID?, method: String,
        namedUnits: NamedUnits? = nil, history: ReplayedHistory? = nil
    ) async throws(VarlinkError) -> JSONValue {
        var state = state
        var transition = transition
        var work = UnitWork()
        // The units it names, and those its operation holds (a step or an ending may release
        // them): none may be in another command's flight (a status change of a unit on its way
        // does not take the operation's lock).
        if roster != nil, !unitsInFlight.isEmpty {
            var units = namedUnits?.ids ?? []
            for instance in state.branches.indices {
                units += roster!.units(committedTo: UnitAssignment(operation: state.id, instance: instance)).map(\.id)
            }
            await settle(units)
        }
        do {
            try dispatchUnits(&state, &transition, &work, named: namedUnits)
        } catch {
            undo(work)
            throw error
        }
        let view = Views.operation(state)
        let reply = JSONValue.object(["operation": view])
        try await commit(
            [(state, before, transition)], reply: reply, requestID: requestID, method: method, units: work, firstView: view,
            history: history)
        return reply
    }

    /// Makes the changes durable together (one transaction), then updates memory, timers,
    /// watchers and the journal; `reply` is what a retry with the same request id gets,
    /// `history` the first change's if it ends its operation (`historyForEnding`).
    func commit(
        _ changes: [(state: OperationState, before: OperationState?, transition: Transition)], reply: JSONValue, requestID: RequestID?,
        method: String, units work: UnitWork = UnitWork(), roster rosterRecords: [RosterChange.Record] = [],
        firstView: JSONValue? = nil, history: ReplayedHistory? = nil
    ) async throws(VarlinkError) {
        let request = requestID.map {
            EventStore.ClientRequest(id: $0.id, method: method, reply: reply.canonical, fingerprint: $0.fingerprint)
        }
        // From here until the commit is done (and, if it failed, undone) these units are in
        // flight: no other command changes them or chooses them meanwhile (`settle`).
        let changing = work.touched
        beginChanging(changing)
        defer { endChanging(changing) }
        let touched = work.touched.compactMap { roster?.unit($0) }
        let stored = changes.enumerated().map { index, change in
            EventStore.Change(
                state: change.state, before: change.before, events: change.transition.events, request: index == 0 ? request : nil,
                units: index == 0 ? touched : [], history: index == 0 ? history : nil)
        }
        let rosterChange =
            rosterRecords.isEmpty
            ? nil : RosterChange(records: rosterRecords, units: stored.isEmpty ? touched : [], request: stored.isEmpty ? request : nil)
        // Units this change frees are free in memory from now on: a fill pass under way starts over.
        if work.mayFill { fillGeneration += 1 }
        var left: [String: JointOpsCore.Unit] = [:]
        for unit in touched { left[unit.id] = unit }
        let placed: GroupCommitter.Placed
        do {
            defer { passedCommitter(changes.map(\.state.id)) }
            placed = try await committer.commit(stored, roster: rosterChange)
        } catch {
            undo(work, left: left)
            fillAgainLater(afterUndoing: work)
            // The fault itself is journalled by StoreFaultLog (first failure, then every 30 s).
            logger.debug("\(changes.first?.state.id ?? UnitChange.stream): not applied: \(error)")
            throw VarlinkError.storageFailure(error)
        }
        for (index, (state, before, transition)) in changes.enumerated() {
            // The operation as it now stands and the change to it reach watchers in one turn
            // of the engine (no await between): a watch opening meanwhile has either the state
            // before and then the change, or the state after and not the change again.
            operations[state.id] = state
            metrics.operationChanged(from: before, to: state, events: transition.events)
            hub.publish(
                state: state, before: before, events: transition.events, firstSequence: placed.changes[index],
                view: index == 0 ? firstView : nil)
            for (offset, record) in transition.events.enumerated() {
                log(record, of: state, sequence: placed.changes[index] + Int64(offset))
            }
            if state.phase.isTerminal {
                operations[state.id] = nil
                clockBehind[state.id] = nil
            }
            // No hop to the scheduler for a change that arms or cancels nothing (most of them).
            if transition.effects.contains(where: \.touchesTimers) {
                await timers.apply(transition.effects, operation: state.id)
                if timerRetries[state.id] != nil { forgetRetries(cancelledBy: transition.effects, of: state.id) }
            }
        }
        for (offset, record) in rosterRecords.enumerated() {
            let place = placed.roster.map { ($0.sequence + Int64(offset), $0.streamSequence + Int64(offset)) } ?? (0, 0)
            hub.publish(
                unit: record.change, at: record.at, actor: record.actor, units: touched, sequence: place.0, streamSequence: place.1)
            logger.info("\(record.change.summary)", metadata: ["unit": "\(record.change.unit)", "event": "\(record.change.kind)"])
        }
        // Counted as this command left each unit, not as the roster has it now: a command that
        // changed the unit while this one was committing counts its own change.
        for id in work.touched { metrics.unitChanged(from: work.before[id], to: left[id]) }
        if !work.touched.isEmpty { unitsCommitted() }
        // Now durable, the units it freed are no longer in flight and may be chosen: a fill
        // pass under way that passed over them while they were starts over (P1 first again).
        if work.mayFill {
            fillGeneration += 1
            scheduleFill()
        }
    }

    /// One journal entry per event, with the fields `journalctl OPERATION_ID=…` filters on,
    /// and its place in the event log (`sequence`), which ties the entry to the hash chain.
    private func log(_ record: RecordedEvent, of state: OperationState, sequence: Int64) {
        let level: Logger.Level
        switch record.event {
        case .deadlineMissed, .escalated, .escalationRaised, .unitPreempted: level = .warning
        default: level = .info
        }
        // Build the metadata only for a message that will be written.
        guard logger.logLevel <= level else { return }
        var metadata: Logger.Metadata = [
            "operation": "\(state.id)", "workflow": "\(state.workflow.id)", "region": "\(state.region)", "event": "\(record.event.kind)",
            "sequence": "\(sequence)",
        ]
        if let actor = record.actor { metadata["actor_uid"] = "\(actor.uid)" }
        switch record.event {
        case .stepEntered(let instance, _, _):
            metadata["branch"] = "\(state.branches[instance].name)"
        case .deadlineMissed(let key, _, _) where key.instance >= 0:
            metadata["branch"] = "\(state.branches[key.instance].name)"
        case .branchDispatched(let branch, _, _, _, _):
            metadata["branch"] = "\(state.workflow.branches[branch].name)"
        case .unitsAssigned(let instance, let units, _), .unitsReleased(let instance, let units, _, _):
            metadata["branch"] = "\(state.branches[instance].name)"
            metadata["units"] = "\(units.joined(separator: ","))"
        case .unitsAwaited(let instance, _, _):
            metadata["branch"] = "\(state.branches[instance].name)"
        case .unitPreempted(let instance, let unit, _, _):
            metadata["branch"] = "\(state.branches[instance].name)"
            metadata["units"] = "\(unit)"
        default:
            break
        }
        switch record.event {
        case .started: metadata["message_id"] = "\(JournalMessageID.operationStarted)"
        case .closed, .cancelled: metadata["message_id"] = "\(JournalMessageID.operationEnded)"
        case .deadlineMissed: metadata["message_id"] = "\(JournalMessageID.deadlineMissed)"
        case .escalated, .escalationRaised: metadata["message_id"] = "\(JournalMessageID.escalation)"
        default: break
        }
        logger.log(level: level, "\(state.id): \(state.describe(record.event))", metadata: metadata)
    }

    /// The reply an earlier call with this request id got, or nil if there was none. The
    /// same id on another method, or with other parameters, is refused: a retry repeats its
    /// command exactly.
    func previousReply(_ requestID: RequestID, method: String) throws(VarlinkError) -> JSONValue? {
        // Read from the store, which has every committed request's reply: kept in memory as
        // well, they grew by a few kilobytes with every command and were never given back.
        guard let request = try storeRead({ () throws(StoreError) in try store.reply(toRequest: requestID.id) }) else { return nil }
        guard request.method == method else {
            throw VarlinkError.invalidParameter(
                "requestId", because: "request id '\(requestID.id)' was already used for \(request.method); use a new id for a new command")
        }
        if let fingerprint = request.fingerprint, fingerprint != requestID.fingerprint {
            throw VarlinkError.invalidParameter(
                "requestId",
                because:
                    "request id '\(requestID.id)' was already used for a \(method) with other parameters; a retry must repeat the command exactly, and a new command needs a new id"
            )
        }
        return try? JSONParser.parse(request.reply)
    }

    /// A refusal as the caller hears it: `CommandRefused`, or, for a parameter wrong in
    /// itself, `InvalidParameter` naming it (as every other mistake in a call's parameters is).
    static func refused(_ refusal: Refusal) -> VarlinkError {
        if let parameter = refusal.parameter { return VarlinkError.invalidParameter(parameter, because: refusal.reason) }
        return VarlinkError(
            "io.jointops.Operations.CommandRefused",
            [
                "code": .string(refusal.code.rawValue), "reason": .string(refusal.reason), "phase": .string(refusal.phase),
                "allowed": .array(refusal.allowed.map(JSONValue.string)),
            ])
    }

    func nextID(_ now: Instant) -> String {
        let day = String(ISO8601.format(now, offsetSeconds: 8 * 3600).prefix(10)).replacingOccurrences(of: "-", with: "")
        if generatedToday.day != day { generatedToday = (day, 1) }
        while true {
            let id = "OP-\(day)-\(String(format: "%04d", generatedToday.next))"
            generatedToday.next += 1
            // (Not one an explicit Start in flight is about to take.)
            if operations[id] == nil, !busy.isHeld(id), (try? store.operation(id)) == nil { return id }
        }
    }

    /// Takes back a generated id whose start was refused or failed, if no later one was
    /// handed out meanwhile: numbers are not used up by mistakes (an auditor reading
    /// OP-…-0011 then OP-…-0022 asks where the ten between went).
    func giveBack(generated id: String) {
        let last = generatedToday.next - 1
        guard last >= 1, id == "OP-\(generatedToday.day)-\(String(format: "%04d", last))" else { return }
        generatedToday.next = last
    }

    // MARK: One call per client request id at a time

    /// Waits until no other call with this request id is in flight: a retry sent while the
    /// first is still working (a client that timed out early, two clients with one id) must
    /// get the first one's reply, not apply the command again or collide with it in the store.
    func holdRequest(_ requestID: RequestID?) async {
        guard let id = requestID?.id, !requestsInFlight.take(id) else { return }
        await withCheckedContinuation { requestsInFlight.wait(for: id, $0) }
    }

    func releaseRequest(_ requestID: RequestID?) {
        guard let id = requestID?.id else { return }
        requestsInFlight.giveBack(id)?.resume()
    }

    // MARK: One command per operation at a time

    func acquire(_ id: String) async {
        guard !busy.take(id) else { return reportCommandsInFlight() }
        await withCheckedContinuation { busy.wait(for: id, $0) }
    }

    func release(_ id: String) {
        pastCommitter.remove(id)
        let next = busy.giveBack(id)
        reportCommandsInFlight()
        next?.resume()
    }

    /// Tells the committer how many commands are on their way to it or waiting in it: those
    /// being worked on, less those already past it (a batch waiting for them would wait for
    /// nothing until they finish replying).
    private func reportCommandsInFlight() {
        committer.setCommandsInFlight(busy.count - pastCommitter.count)
    }

    private func passedCommitter(_ operations: [String]) {
        for id in operations where busy.isHeld(id) { pastCommitter.insert(id) }
        reportCommandsInFlight()
    }

    func storeRead<T>(_ body: () throws(StoreError) -> T) throws(VarlinkError) -> T {
        do { return try body() } catch {
            throw VarlinkError.storageFailure(error)
        }
    }

    /// A read of the store that grows with it (a page of ended operations, a long history,
    /// a year's report), made away from the engine (`awayFromEngine`) so commands go on
    /// meanwhile; a failure is a `StorageFailure`. Reads on a command's own path stay
    /// `storeRead`: a thread hop would add to every command.
    nonisolated func readAway<T: Sendable>(_ body: @escaping @Sendable (EventStore) throws(StoreError) -> T) async throws(VarlinkError) -> T
    {
        let store = store
        return try await awayFromEngine { () throws(StoreError) in try body(store) }.mapError { VarlinkError.storageFailure($0) }.get()
    }

    /// What an administrator wants at a glance, for systemd's STATUS=; answering at all shows
    /// the engine is making progress (the watchdog pings only after this returns).
    public func status() -> String {
        let overdue = operations.values.reduce(0) { $0 + $1.escalations.count { $0.isOpen && $0.timer != nil } }
        let skipped =
            catalog.skipped.isEmpty
            ? "" : ", \(catalog.skipped.count) invalid workflow file\(catalog.skipped.count == 1 ? "" : "s") skipped"
        let waiting = timersAwaitingStore
        let fault =
            committer.fault.map { "STORE FAULT (\($0.kind.rawValue)) since \($0.since): \($0.failedCommands) commands failed, " } ?? ""
        let broken = eventLogBrokenAt.map { "\(Daemon.eventLogBrokenStatus(at: $0)) — " } ?? ""
        return
            broken + fault + diskStatus() + (waiting == 0 ? "" : "\(waiting) due timer\(waiting == 1 ? "" : "s") waiting for the store, ")
            + "\(operations.count) open operation\(operations.count == 1 ? "" : "s"), \(overdue) overdue, \(hub.count) watcher\(hub.count == 1 ? "" : "s")\(skipped)"
    }

    /// "DISK NEARLY FULL: … , " when the store's file system is (see `StoreDiskSpace`), else
    /// ""; logs the change when it becomes so or has room again, and keeps the metric current.
    private func diskStatus() -> String {
        guard let space = store.diskSpace else { return "" }
        metrics.storeFree(bytes: space.free)
        if space.isNearlyFull != diskNearlyFull {
            diskNearlyFull = space.isNearlyFull
            if diskNearlyFull {
                logger.warning(
                    "disk nearly full: \(space); commands fail once it is full: free space there (df -h) or move the state directory to a larger file system (docs/storage.md, \"Storage faults\")"
                )
            } else {
                logger.notice("disk has room again: \(space)")
            }
        }
        return diskNearlyFull ? "DISK NEARLY FULL: \(space), " : ""
    }

    /// Whether a transaction has been stuck for longer than `limit` (then the watchdog must not be fed).
    public func storeStalled(longerThan limit: Duration) -> Bool {
        committer.writingFor.map { $0 > limit } ?? false
    }

    /// Logs a reload that failed, and makes the error its caller gets: one problem a line
    /// (a message of several lines is several problems).
    private func reloadFailed(_ text: String) -> VarlinkError {
        let several = text.contains("\n")
        logger.error(
            "reload failed; \(ReloadWording.kept). The problem\(several ? "s" : ""):\(several ? "\n" : " ")\(text)",
            metadata: ["message_id": "\(JournalMessageID.reloadFailed)"])
        return VarlinkError(
            "io.jointops.Admin.ReloadFailed", ["problems": .array(text.split(separator: "\n").map { .string(String($0)) })])
    }

    /// Re-reads the workflows directory and the jurisdiction file (binding the unit roster to
    /// the new tree); if every file is valid, stores the new versions and swaps the set at once
    /// (running operations keep the version they started with); otherwise nothing changes —
    /// workflows, jurisdiction and roster stay as they were — and the problems are the error.
    public func reload(from folder: String) async throws(VarlinkError) -> JSONValue {
        // systemd is told around every reload, whichever way it was asked for.
        Systemd.notify("RELOADING=1\nMONOTONIC_USEC=\(Systemd.monotonicMicroseconds)\nSTATUS=reloading workflows")
        defer { Systemd.notify("READY=1\nSTATUS=\(status())") }
        // The files are read and checked away from the engine, so commands (and the watchdog's
        // status) go on meanwhile: large workflows took 16 s, every command waited, and no
        // WATCHDOG=1 was sent for longer than the unit's WatchdogSec.
        let (logger, regionsPath) = (self.logger, roster == nil ? nil : self.regionsPath)
        let read = await awayFromEngine { () throws(any Error) in
            (
                try WorkflowCatalog.load(from: folder, logger: logger),
                try regionsPath.map { path throws(DaemonError) in try UnitsSetup.tree(at: path) }
            )
        }
        let fresh: WorkflowCatalog
        let tree: JurisdictionTree?
        switch read {
        case .success(let files): (fresh, tree) = files
        case .failure(let error): throw reloadFailed("\(error)")
        }
        var rebound = roster
        if let tree, rebound != nil {
            do {
                try rebound!.rebind(to: tree)
            } catch {
                throw reloadFailed("\(error)")
            }
            // Like a unit's home: an operation left in a region the tree lacks would drop out of
            // every region's view, and its branches could no longer be filled.
            let orphaned = UnitsSetup.regionProblems(of: operations.values, in: rebound!.tree, lacking: "the new jurisdiction") {
                "keep the region until it ends, or first move it to a region both jurisdictions have: \($0)"
            }
            guard orphaned.isEmpty else { throw reloadFailed(orphaned.joined(separator: "\n")) }
        }
        let errors = fresh.diagnostics.filter { $0.severity == .error } + (rebound.map { fresh.regionProblems($0.tree) } ?? [])
        guard errors.isEmpty else {
            logger.error(
                "reload failed: \(errors.count) problem\(errors.count == 1 ? "" : "s") in \(folder); \(ReloadWording.kept)",
                metadata: ["message_id": "\(JournalMessageID.reloadFailed)"])
            throw VarlinkError("io.jointops.Admin.ReloadFailed", ["problems": .array(errors.map { .string($0.description) })])
        }
        let changed = fresh.current.keys.sorted().filter { id in
            catalog.current[id].map { $0.version != fresh.current[id]!.version } ?? true
        }
        let removed = catalog.current.keys.sorted().filter { fresh.current[$0] == nil }
        let jurisdiction = rebound.map { UnitsSetup.changes(from: roster!.tree, to: $0.tree) } ?? []
        // What changed, in words (a lower version than one stored is refused by the store below).
        let changes =
            changed.map { id in catalog.current[id].map { "\(id) v\($0.version) → v\(fresh.current[id]!.version)" } ?? "\(id) added" }
            + removed.map { "\($0) removed (its running operations keep their version; new ones cannot start)" }
            + jurisdiction
        do {
            try store.register(fresh.current.keys.sorted().map { (fresh.current[$0]!, fresh.sources[$0]!) }, at: clock())
        } catch {
            throw reloadFailed(fresh.problem(error))
        }
        catalog = fresh
        roster = rebound
        // Another tree may let a waiting branch be filled (its region back after a start without it).
        if !jurisdiction.isEmpty { awaitingMayBeFilled() }
        logger.notice(
            "reloaded \(fresh.current.count) workflows from \(folder); \(changes.isEmpty ? "nothing changed" : changes.joined(separator: "; "))"
        )
        return .object([
            "workflows": .array(fresh.current.values.sorted { $0.id < $1.id }.map { .string("\($0.id) v\($0.version)") }),
            "changed": .array(changed.map(JSONValue.string)), "removed": .array(removed.map(JSONValue.string)),
            "changes": .array(changes.map(JSONValue.string)),
        ])
    }

    /// Finishes in-flight commands' bookkeeping and closes watchers (graceful shutdown).
    public func shutdown() {
        hub.finishAll()
    }
}

extension Caller {
    var actor: Actor { Actor(uid: Int(uid), name: name, role: role.description) }
}

extension VarlinkError {
    /// `StorageFailure` of `interface` (Admin's for a backup or a verify): the store could
    /// not do it, and why.
    static func storageFailure(_ error: StoreError, in interface: String = "io.jointops.Operations") -> VarlinkError {
        VarlinkError("\(interface).StorageFailure", ["kind": .string(error.kind.rawValue), "message": .string(error.message)])
    }

    static func adminStorageFailure(_ error: StoreError) -> VarlinkError { storageFailure(error, in: "io.jointops.Admin") }

    /// Whether the store could not record a command (a storage fault, not a refusal).
    var isStorageFailure: Bool { name == "io.jointops.Operations.StorageFailure" }
}

extension OperationEngine {
    /// How long to wait before trying again what the store could not record (a due timer, a
    /// fill pass), after `failures` failures in a row: 1 s, then 2, 4 … up to 30 s.
    static func retryDelayMilliseconds(afterFailures failures: Int) -> Int64 {
        Int64(min(30_000, 1000 << min(failures - 1, 5)))
    }
}
