/// A fact about an operation. Events are the truth: applying an operation's events in
/// order from `started` rebuilds its state exactly. Indexes refer to the workflow version
/// the operation started with.
public enum OperationEvent: Sendable, Hashable {
    case started(operation: String, workflow: String, version: Int, region: String, attributes: [AttributeValue?])
    /// The operation entered one of the workflow's phases (closing and cancelling have events of their own).
    case phaseEntered(Int, cause: PhaseEntryCause)
    /// A branch instance was dispatched (index = its position among the operation's instances).
    /// `capabilities`: what the dispatch asked of every unit on top of the branch's own — a
    /// dispatch entry's `capabilities:`, or those of the late instance a ladder reinforces.
    case branchDispatched(branch: Int, region: String, units: Int, reason: DispatchReason, capabilities: [String] = [])
    case stepEntered(instance: Int, step: Int, outcome: String?)
    /// `instance` nil moves the operation (and every instance that was in its region).
    case regionReassigned(instance: Int?, region: String)
    case held(reason: String)
    case resumed
    /// A deadline passed unmet; opens escalation number `escalation`.
    case deadlineMissed(TimerKey, escalation: Int, latenessMilliseconds: Int64)
    /// A rung of the deadline's ladder fired; for an `event:` rung, `refusal` says why its
    /// event was not applied, if it was not (like `phaseTimerElapsed`).
    case escalated(escalation: Int, rung: Int, latenessMilliseconds: Int64, refusal: String? = nil)
    /// An operator raised an escalation by hand.
    case escalationRaised(escalation: Int, reason: String, audience: String)
    case escalationAcknowledged(escalation: Int)
    /// A phase timer elapsed, `latenessMilliseconds` after it was due (after an outage, say);
    /// `refusal` says why its event was not applied, if it was not.
    case phaseTimerElapsed(TimerKey, latenessMilliseconds: Int64, refusal: String?)
    case noted(String)
    /// An operator changed attributes: each change names the attribute (by index), its value
    /// before (for the history) and its new value (nil: removed), in attribute order.
    case attributesChanged([AttributeChange])
    case cancelled(reason: String)
    case closed(disposition: String)
    /// A member of the public rated the closed operation.
    case rated(ServiceRating)
    /// Units were committed to a branch instance: chosen by selection (each with why) or
    /// named by an operator (the operator's reason).
    case unitsAssigned(instance: Int, units: [String], reasons: [String])
    /// Too few units were free: the instance awaits `missing` more (0: no longer awaiting),
    /// each with every capability in `capabilities` (the branch's and its dispatch's).
    case unitsAwaited(instance: Int, missing: Int, capabilities: [String] = [])
    /// The instance ended (or an operator released them): its units went to `status`. An
    /// operator taking a unit off a live branch gives the `reason` (nil otherwise).
    case unitsReleased(instance: Int, units: [String], status: UnitStatus, reason: String? = nil)
    /// An operator took `unit` from this instance for another operation (`by`).
    case unitPreempted(instance: Int, unit: String, by: String, reason: String)

    /// The kind of event, as the audit trail and the journal name it.
    public var kind: String {
        switch self {
        case .started: "started"
        case .phaseEntered: "phase_entered"
        case .branchDispatched: "branch_dispatched"
        case .stepEntered: "step_entered"
        case .regionReassigned: "region_reassigned"
        case .held: "held"
        case .resumed: "resumed"
        case .deadlineMissed: "deadline_missed"
        case .escalated: "escalated"
        case .escalationRaised: "escalation_raised"
        case .escalationAcknowledged: "escalation_acknowledged"
        case .phaseTimerElapsed: "phase_timer_elapsed"
        case .noted: "noted"
        case .attributesChanged: "attributes_changed"
        case .cancelled: "cancelled"
        case .closed: "closed"
        case .rated: "rated"
        case .unitsAssigned: "units_assigned"
        case .unitsAwaited: "units_awaited"
        case .unitsReleased: "units_released"
        case .unitPreempted: "unit_preempted"
        }
    }
}

/// One attribute's change in an `attributesChanged` event.
public struct AttributeChange: Sendable, Hashable {
    /// The attribute's index in the workflow's attributes.
    public var attribute: Int
    /// The value before; nil when it had none.
    public var from: AttributeValue?
    /// The new value; nil when it was removed.
    public var to: AttributeValue?

    public init(attribute: Int, from: AttributeValue?, to: AttributeValue?) {
        self.attribute = attribute
        self.from = from
        self.to = to
    }
}

/// Why an operation entered a phase.
public enum PhaseEntryCause: Sendable, Hashable {
    /// The initial phase, on start.
    case start
    /// A phase event, fired by an operator, a phase timer or an escalation rung.
    case event(String)
    /// A join's condition came to hold.
    case join
}

public enum DispatchReason: String, Sendable, Hashable, Codable {
    /// Dispatched on entering a phase.
    case phase
    /// Added by an operator.
    case reinforcement
    /// Added by an escalation rung.
    case escalation
}

/// An event with when it happened and who caused it.
public struct RecordedEvent: Sendable, Hashable {
    public var at: Instant
    public var actor: Actor?
    public var event: OperationEvent

    public init(at: Instant, actor: Actor?, event: OperationEvent) {
        self.at = at
        self.actor = actor
        self.event = event
    }
}
