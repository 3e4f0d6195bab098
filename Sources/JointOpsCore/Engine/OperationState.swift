/// The live state of one operation. Changed only by applying events (`apply`), which both
/// the engine and replay use, so replay reproduces it exactly.
public struct OperationState: Sendable {
    public let id: String
    public let workflow: Workflow
    public internal(set) var phase: PhaseRef
    public internal(set) var attributes: [AttributeValue?]
    public internal(set) var region: String
    public internal(set) var branches: [BranchInstance] = []
    public internal(set) var startedAt: Instant
    /// When each phase was last entered.
    public internal(set) var phaseEnteredAt: [Instant?]
    /// The branch instances (positions, ascending) that had already ended when the current
    /// phase was entered: its joins do not count them. Kept as a list rather than judged by
    /// times, because a join that ends a branch and enters the next phase does both at one
    /// instant.
    public internal(set) var endedBeforePhase: [Int] = []
    public internal(set) var hold: HoldState?
    /// Timers in force, by key; while held with a paused clock they do not run.
    public internal(set) var timers: [ArmedTimer] = []
    public internal(set) var escalations: [Escalation] = []
    /// Number of events applied so far (the per-operation sequence number of the last one).
    public internal(set) var sequence = 0
    public internal(set) var lastChangeAt: Instant
    /// How it ended: the close disposition or the cancel reason.
    public internal(set) var ending: String?

    init(id: String, workflow: Workflow, region: String, attributes: [AttributeValue?], at: Instant) {
        self.id = id
        self.workflow = workflow
        self.region = region
        self.attributes = attributes
        phase = .phase(workflow.initialPhase)
        startedAt = at
        lastChangeAt = at
        phaseEnteredAt = Array(repeating: nil, count: workflow.phases.count)
    }

    /// The timers the daemon should have armed right now (none while the clock is paused).
    public var runningTimers: [ArmedTimer] {
        hold?.clockPaused == true ? [] : timers
    }

    public var phaseName: String { workflow.name(of: phase) }

    public func attribute(named name: String) -> AttributeValue? {
        workflow.attribute(named: name).flatMap { attributes[$0] }
    }

    public func instance(named name: String) -> Int? { branches.firstIndex { $0.name == name } }

    /// The operation's priority level (1 = P1), from the workflow's first priority attribute.
    public var priorityLevel: Int? {
        for (index, attribute) in workflow.attributes.enumerated() where attribute.type == .priority {
            if case .priority(let level)? = attributes[index] { return level }
        }
        return nil
    }

    /// Whether the operation runs in one of `regions`, or has a branch sent to one.
    public func touches(anyOf regions: Set<String>) -> Bool {
        regions.contains(region) || branches.contains { regions.contains($0.region) }
    }

    /// Whether the operation has an instance of the workflow branch `name`.
    public func hasBranch(named name: String) -> Bool {
        branches.contains { workflow.branches[$0.definition].name == name }
    }
}

/// One dispatched instance of a workflow branch (`swat`, `swat#2`).
public struct BranchInstance: Sendable, Hashable {
    public var name: String
    public var definition: Int
    public var step: Int
    public var status: BranchStatus
    public var region: String
    public var units: Int
    public var dispatchedAt: Instant
    /// When each step of the branch was last entered.
    public var stepEnteredAt: [Instant?]
    /// The outcome recorded by the last advance, if any.
    public var outcome: String?
    /// The units committed to the instance, in the order they were assigned.
    public var assignedUnits: [String] = []
    /// How many more units the instance awaits (0 when it has what it asked for).
    public var missingUnits = 0
    /// The capabilities each of its units must have (the branch's and its dispatch's), kept
    /// when its dispatch asked for more than the branch's own or it awaited units; empty
    /// means the branch's own. (The store's column is still `awaited_capabilities`: it was
    /// first kept only for the units a branch awaits.)
    public var requiredCapabilities: [String] = []

    /// Whether the branch waits for units ("awaiting units").
    public var isAwaitingUnits: Bool { status == .active && missingUnits > 0 }

    public init(
        name: String, definition: Int, step: Int, status: BranchStatus, region: String, units: Int, dispatchedAt: Instant,
        stepEnteredAt: [Instant?], outcome: String?, assignedUnits: [String] = [], missingUnits: Int = 0,
        requiredCapabilities: [String] = []
    ) {
        self.assignedUnits = assignedUnits
        self.missingUnits = missingUnits
        self.requiredCapabilities = requiredCapabilities
        self.name = name
        self.definition = definition
        self.step = step
        self.status = status
        self.region = region
        self.units = units
        self.dispatchedAt = dispatchedAt
        self.stepEnteredAt = stepEnteredAt
        self.outcome = outcome
    }
}

public struct HoldState: Sendable, Hashable {
    public init(since: Instant, reason: String, clockPaused: Bool) {
        self.since = since
        self.reason = reason
        self.clockPaused = clockPaused
    }

    public var since: Instant
    public var reason: String
    public var clockPaused: Bool
}

/// A missed deadline climbing its ladder, or an escalation raised by hand.
public struct Escalation: Sendable, Hashable {
    /// 1, 2, … within the operation.
    public var number: Int
    /// The deadline's timer, or nil for a manual escalation.
    public var timer: TimerKey?
    public var reason: String
    public var openedAt: Instant
    /// Rung `after`s are measured from here (the deadline's due time, moved by re-escalation and holds).
    public var ladderBase: Instant
    public var rungsFired = 0
    public var acknowledgedAt: Instant?
    /// Set when the deadline was met at last or the operation ended.
    public var resolvedAt: Instant?

    public var isOpen: Bool { resolvedAt == nil }

    public init(
        number: Int, timer: TimerKey?, reason: String, openedAt: Instant, ladderBase: Instant, rungsFired: Int = 0,
        acknowledgedAt: Instant? = nil, resolvedAt: Instant? = nil
    ) {
        self.number = number
        self.timer = timer
        self.reason = reason
        self.openedAt = openedAt
        self.ladderBase = ladderBase
        self.rungsFired = rungsFired
        self.acknowledgedAt = acknowledgedAt
        self.resolvedAt = resolvedAt
    }
}

extension OperationState: GuardContext {
    public func attributeValue(_ index: Int) -> AttributeValue? { attributes[index] }

    /// The status of the latest instance of a branch.
    public func branchStatus(_ branch: Int) -> BranchStatus {
        branches.last { $0.definition == branch }?.status ?? .notDispatched
    }

    public func branchStep(_ branch: Int) -> Int? {
        branches.last { $0.definition == branch }?.step
    }
}
