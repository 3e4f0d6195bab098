public import JointOpsCore

/// Runs a scenario through the engine on a virtual clock: timers due before each entry
/// fire first, in due order; every event is written to the timeline; every expectation is
/// checked.
public struct ScenarioRunner {
    public struct Report: Sendable {
        public var lines: [String] = []
        public var failures: [String] = []
        public var passed: Bool { failures.isEmpty }
        /// The first command refused when the scenario did not expect it (or not for that
        /// reason): its entry, and its failure's index in `failures`. The failures after it
        /// may only follow from it, the operation being no longer where the scenario assumes.
        public var firstRefusal: (location: SourceLocation, failure: Int)?
        /// The operation as it stood at the end (nil if it could not start).
        public var finalState: OperationState?
        /// Every event, in order, for replay checks.
        public var events: [RecordedEvent] = []
    }

    /// Called with each accepted command's state before (nil at start), state after, and transition.
    public typealias Observer = (OperationState?, OperationState, Transition) -> Void

    /// Runs `scenario`, which should have been read for `workflow`
    /// (`ScenarioParser.parse(source:file:workflow:)`): that checks it is for this workflow
    /// and names only what the workflow has.
    public static func run(_ scenario: Scenario, workflow: Workflow, observe: Observer? = nil) -> Report {
        var report = Report()
        let start = scenario.startAt
        func stamp(_ at: Instant) -> String { "T+" + clock(at.since(start)) }
        var state: OperationState
        do {
            let (started, transition) = try OperationState.start(
                workflow, id: scenario.operationID, region: scenario.region, attributes: scenario.attributes, at: start, actor: nil)
            state = started
            observe?(nil, state, transition)
            record(transition, in: state, stamp(start), &report)
        } catch {
            report.failures.append("the operation could not start: \(error)")
            return report
        }
        var firedRungs: [String] = []
        for entry in scenario.timeline {
            let at = start + entry.offset
            // Timers that did not catch up with the clock leave a state frozen in the past:
            // nothing after can be checked.
            guard fireDueTimers(until: at, for: entry, &state, &report, &firedRungs, stamp, observe) else { break }
            let where_ = "\(entry.location) (\(stamp(at)))"
            switch entry.action {
            case .command(let command, let refused):
                do {
                    let before = state
                    let transition = try state.handle(command, at: at, actor: nil)
                    observe?(before, state, transition)
                    collectRungs(transition, state, &firedRungs)
                    record(transition, in: state, stamp(at), &report)
                    if let refused {
                        report.failures.append("\(where_): expected '\(command.name)' to be refused (\(refused)), but it was accepted")
                    }
                } catch {
                    report.lines.append("\(stamp(at))  \(command.name) refused: \(error)")
                    guard refused.map({ !error.description.contains($0) }) ?? true else { continue }
                    if report.firstRefusal == nil { report.firstRefusal = (entry.location, report.failures.count) }
                    report.failures.append(
                        refused.map { "\(where_): '\(command.name)' was refused, but not for '\($0)':\n    actual: \(error)" }
                            ?? "\(where_): '\(command.name)' was refused: \(error)")
                }
            case .expect(let expectation):
                let problems = check(expectation, state, firedRungs)
                report.lines.append("\(stamp(at))  expect \(problems.isEmpty ? "✓" : "✗")")
                for problem in problems { report.failures.append("\(where_): \(problem)") }
            }
        }
        report.finalState = state
        return report
    }

    /// How many timers may fire between two timeline entries before the run is stopped as a
    /// loop: phase timers that fire each other, or a re-escalating ladder, could run forever.
    static let timerFiringLimit = 10_000

    /// Fires the timers due by `at` (the time of `entry`), in due order; false, with a failure
    /// recorded, when `timerFiringLimit` of them fired and more are still due.
    private static func fireDueTimers(
        until at: Instant, for entry: Scenario.Entry, _ state: inout OperationState, _ report: inout Report,
        _ firedRungs: inout [String], _ stamp: (Instant) -> String, _ observe: Observer?
    ) -> Bool {
        var fired = 0
        var lastDue = at
        while let next = state.runningTimers.min(by: { ($0.due, $0.key.description) < ($1.due, $1.key.description) }),
            next.due <= at
        {
            guard fired < timerFiringLimit else {
                report.failures.append(
                    "\(entry.location): stopped after \(timerFiringLimit) timer firings at \(stamp(lastDue)): a timer loop? (timers that fire each other with no operator action between)"
                )
                return false
            }
            fired += 1
            lastDue = next.due
            do {
                let before = state
                let transition = try state.handle(.timerFired(next.key), at: next.due, actor: nil)
                observe?(before, state, transition)
                collectRungs(transition, state, &firedRungs)
                record(transition, in: state, stamp(next.due), &report)
            } catch {
                report.failures.append("\(stamp(next.due)): timer \(next.key) was refused: \(error)")
                return true
            }
        }
        return true
    }

    private static func collectRungs(_ transition: Transition, _ state: OperationState, _ fired: inout [String]) {
        for record in transition.events {
            guard case .escalated(let number, let rung, _, _) = record.event,
                let key = state.escalations.first(where: { $0.number == number })?.timer
            else { continue }
            fired.append("\(state.workflow.deadlines[key.index].id)/\(rung + 1)")
        }
    }

    private static func record(_ transition: Transition, in state: OperationState, _ stamp: String, _ report: inout Report) {
        for event in transition.events {
            report.lines.append("\(stamp)  \(state.describe(event.event))")
            report.events.append(event)
        }
    }

    static func check(_ expectation: Scenario.Expectation, _ state: OperationState, _ fired: [String]) -> [String] {
        var problems: [String] = []
        if let phase = expectation.phase, phase != state.phaseName {
            problems.append("expected phase '\(phase)', actual '\(state.phaseName)'")
        }
        for (name, step) in expectation.steps {
            guard let index = state.instance(named: name) else {
                problems.append("expected branch '\(name)' at step '\(step)', but it has not been dispatched")
                continue
            }
            let actual = state.workflow.branches[state.branches[index].definition].steps[state.branches[index].step].name
            if actual != step { problems.append("expected branch '\(name)' at step '\(step)', actual '\(actual)'") }
        }
        for (name, status) in expectation.statuses {
            let actual = state.instance(named: name).map { state.branches[$0].status.rawValue } ?? BranchStatus.notDispatched.rawValue
            if actual != status { problems.append("expected branch '\(name)' \(status), actual \(actual)") }
        }
        if let escalations = expectation.escalations, escalations != fired {
            problems.append("expected escalations [\(escalations.joined(separator: ", "))], actual [\(fired.joined(separator: ", "))]")
        }
        if let held = expectation.held, held != (state.hold != nil) {
            problems.append(
                "expected the operation \(held ? "on hold" : "not on hold"), but it is \(state.hold != nil ? "on hold" : "not")")
        }
        return problems
    }

    /// `00:15:00`, or `7d 00:00:00` past a day.
    static func clock(_ milliseconds: Int64) -> String {
        let seconds = milliseconds / 1000
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let time = "\(two(seconds / 3600 % 24)):\(two(seconds / 60 % 60)):\(two(seconds % 60))"
        return seconds >= 86_400 ? "\(seconds / 86_400)d \(time)" : time
    }
}
