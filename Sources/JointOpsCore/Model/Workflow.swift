/// A validated workflow, compiled for the engine: every name resolved to an index.
///
/// Immutable and shared by every operation started from it; running operations keep the
/// `Workflow` (id and version) they started with.
public final class Workflow: Sendable {
    public let id: String
    public let version: Int
    public let title: Title
    public let description: String?
    /// Seconds east of UTC, for working-day durations.
    public let timezoneOffsetSeconds: Int
    public let attributes: [AttributeDefinition]
    public let phases: [PhaseDefinition]
    public let initialPhase: Int
    public let branches: [BranchDefinition]
    public let deadlines: [DeadlineDefinition]
    public let hold: HoldPolicy
    /// Branches operators may add at run time.
    public let reinforceable: [Int]
    public let reassignAllowed: Bool
    /// Allowed cancel reasons; nil accepts any reason.
    public let cancelReasons: [String]?
    public let closeFrom: [Int]
    public let dispositions: [String]

    let attributeIndex: [String: Int]
    let phaseIndex: [String: Int]
    let branchIndex: [String: Int]
    let deadlineIndex: [String: Int]
    /// Deadlines armed / met by each moment, precomputed for the engine's hot path.
    let deadlinesFrom: [Moment: [Int]]
    let deadlinesReach: [Moment: [Int]]

    init(
        id: String, version: Int, title: Title, description: String?, timezoneOffsetSeconds: Int,
        attributes: [AttributeDefinition], phases: [PhaseDefinition], initialPhase: Int,
        branches: [BranchDefinition], deadlines: [DeadlineDefinition], hold: HoldPolicy,
        reinforceable: [Int], reassignAllowed: Bool, cancelReasons: [String]?, closeFrom: [Int],
        dispositions: [String]
    ) {
        self.id = id
        self.version = version
        self.title = title
        self.description = description
        self.timezoneOffsetSeconds = timezoneOffsetSeconds
        self.attributes = attributes
        self.phases = phases
        self.initialPhase = initialPhase
        self.branches = branches
        self.deadlines = deadlines
        self.hold = hold
        self.reinforceable = reinforceable
        self.reassignAllowed = reassignAllowed
        self.cancelReasons = cancelReasons
        self.closeFrom = closeFrom
        self.dispositions = dispositions
        attributeIndex = Dictionary(uniqueKeysWithValues: attributes.enumerated().map { ($1.name, $0) })
        phaseIndex = Dictionary(uniqueKeysWithValues: phases.enumerated().map { ($1.name, $0) })
        branchIndex = Dictionary(uniqueKeysWithValues: branches.enumerated().map { ($1.name, $0) })
        deadlineIndex = Dictionary(uniqueKeysWithValues: deadlines.enumerated().map { ($1.id, $0) })
        var from: [Moment: [Int]] = [:]
        var reach: [Moment: [Int]] = [:]
        for (index, deadline) in deadlines.enumerated() {
            from[deadline.from, default: []].append(index)
            reach[deadline.reach, default: []].append(index)
        }
        deadlinesFrom = from
        deadlinesReach = reach
    }

    public func attribute(named name: String) -> Int? { attributeIndex[name] }
    public func phase(named name: String) -> Int? { phaseIndex[name] }
    public func branch(named name: String) -> Int? { branchIndex[name] }
    public func deadline(named id: String) -> Int? { deadlineIndex[id] }

    /// "P2" for `.phase(2)`'s name, "closed", "cancelled".
    public func name(of phase: PhaseRef) -> String {
        switch phase {
        case .phase(let index): phases[index].name
        case .closed: "closed"
        case .cancelled: "cancelled"
        }
    }

    /// A rung's action in words: `notify duty_commander`, `reinforce swat`, `fire assess`.
    public func name(of action: EscalationRung.Action) -> String {
        switch action {
        case .notify(let audience): "notify \(audience)"
        case .reinforce(let branch): "reinforce \(branches[branch].name)"
        case .event(let event): "fire \(event)"
        }
    }

    /// A moment as an author writes it: `started`, `assessing`, `swat.on_scene`, `closed`.
    public func name(of moment: Moment) -> String {
        switch moment {
        case .started: "started"
        case .closed: "closed"
        case .phase(let index): phases[index].name
        case .step(let branch, let step): "\(branches[branch].name).\(branches[branch].steps[step].name)"
        case .unitsAwaited(let branch): "\(branches[branch].name) awaiting units"
        case .unitsFilled(let branch): "\(branches[branch].name) units filled"
        }
    }
}

/// The operation's phase: one of the workflow's, or a built-in terminal one.
public enum PhaseRef: Sendable, Hashable {
    case phase(Int)
    case closed
    case cancelled

    public var isTerminal: Bool { self == .closed || self == .cancelled }
}

public struct AttributeDefinition: Sendable {
    public var name: String
    public var title: Title?
    public var type: AttributeType
    public var required: Bool
    public var defaultValue: AttributeValue?
}

public struct PhaseDefinition: Sendable {
    public var name: String
    public var title: Title?
    /// Events this phase accepts, in the order written; each with its guarded alternatives.
    public var events: [EventDefinition]
    public var dispatch: [DispatchRule]
    public var joins: [JoinRule]
    public var timers: [PhaseTimer]
    /// `stand_down: true`: entering the phase stands down every active branch (as a cancel
    /// does), e.g. a search ended early because the child was found.
    public var standsDown = false

    public func event(named name: String) -> EventDefinition? { events.first { $0.name == name } }
}

public struct EventDefinition: Sendable {
    public var name: String
    public var alternatives: [TransitionDefinition]
}

public struct TransitionDefinition: Sendable {
    public var target: Int
    public var guardSource: String?
    public var guardCondition: Guard?
    public var title: Title?
}

public struct DispatchRule: Sendable {
    public var branch: Int
    public var guardSource: String?
    public var guardCondition: Guard?
    public var units: Int?
    public var region: String?
    /// Capabilities every unit of this dispatch must have, in addition to the branch's.
    public var capabilities: [String] = []
}

public struct JoinRule: Sendable {
    public enum Quantifier: String, Sendable { case all, any }
    /// The status every (or any) branch in scope must have.
    public enum Condition: String, Sendable, CaseIterable {
        case completed, failed, stoodDown = "stood_down", ended

        func matches(_ status: BranchStatus) -> Bool {
            switch self {
            case .completed: status == .completed
            case .failed: status == .failed
            case .stoodDown: status == .stoodDown
            case .ended: status.isEnded
            }
        }
    }

    public var quantifier: Quantifier
    public var condition: Condition
    /// Branches in scope; nil means every required branch dispatched so far.
    public var of: [Int]?
    public var target: Int
}

public struct PhaseTimer: Sendable {
    public var delay: WorkflowDuration
    public var event: String
}

public struct BranchDefinition: Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case criminalInvestigation = "criminal_investigation"
        case publicOrder = "public_order"
        case swat, population, traffic, intelligence, liaison, other
    }

    public var name: String
    public var title: Title?
    public var kind: Kind
    public var units: Int
    public var required: Bool
    public var steps: [StepDefinition]
    public var initialStep: Int
    public var standDownStep: Int
    /// Capabilities every unit of the branch must have (`capabilities: [armed]`); free names.
    public var capabilities: [String] = []
    /// How the branch's units are released when it ends (`release:`, default `available`).
    public var release: UnitRelease = .available

    public func step(named name: String) -> Int? { steps.firstIndex { $0.name == name } }
}

public struct StepDefinition: Sendable {
    public var name: String
    public var title: Title?
    public var next: [Int]
    public var outcomes: [(name: String, target: Int)]
    public var optional: Bool
    /// Set on end steps: the branch's final status.
    public var end: BranchStatus?
    /// Steps an operator may advance to from here: `next`, outcome targets, and whatever
    /// lies beyond optional steps among them.
    public var reachableDirectly: [Int]
    /// The steps a branch entering this step has got at least as far as, so a deadline to
    /// reach any of them is met: this step and, unless it is an end step, every step it
    /// comes after — one it can be reached from and cannot lead back to (an optional step
    /// skipped on the way, or an alternative route's step it has overtaken).
    public var countsAsReaching: [Int] = []
    /// The status the branch's units move to on entering this step (`unit_status:`):
    /// one of `UnitStatus.stepStatuses`.
    public var unitStatus: UnitStatus? = nil
}

public struct DeadlineDefinition: Sendable {
    public var id: String
    public var title: Title?
    public var reach: Moment
    public var from: Moment
    public var within: WorkflowDuration
    public var ladder: [EscalationRung]
    public var reescalate: WorkflowDuration?
    /// The branch whose instances each get their own clock, when `from` or `reach` is a step.
    public var branch: Int?
}

public struct EscalationRung: Sendable {
    public enum Action: Sendable, Hashable {
        case notify(String)
        case reinforce(Int)
        case event(String)
    }

    public var after: WorkflowDuration
    public var action: Action
}

public struct HoldPolicy: Sendable {
    public enum Clock: String, Sendable { case pause, run }
    public var allowed: Bool
    public var clock: Clock

    public static let `default` = HoldPolicy(allowed: true, clock: .pause)
}
