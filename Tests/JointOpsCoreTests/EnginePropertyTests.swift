import Foundation
import JointOpsCore
import Testing

/// Random command sequences over every shipped workflow (seeded, so a failure reproduces):
/// the engine never traps, a refusal changes nothing, replay equals the live state, closed
/// operations have every branch ended, and the timers the effects armed are exactly the
/// timers the state holds (armed and cancelled in pairs).
@Suite struct EnginePropertyTests {
    static let workflows = WorkflowLibraryTests.files

    @Test("random command sequences keep the engine's invariants", arguments: workflows)
    func randomSequencesKeepInvariants(_ url: URL) throws {
        let workflow = try Repository.workflow(url)
        var outcomes = (accepted: 0, refused: 0, closed: 0, cancelled: 0)
        for seed in UInt64(1)...150 {
            var random = SplitMix64(seed: seed &* 7919 &+ UInt64(url.lastPathComponent.utf8.count))
            try runOne(workflow, seed: seed, &random, &outcomes)
        }
        // The generator must really exercise the engine, not be refused throughout.
        #expect(outcomes.accepted > 1000, "accepted: \(outcomes.accepted), refused: \(outcomes.refused)")
        #expect(outcomes.closed + outcomes.cancelled > 10, "closed: \(outcomes.closed), cancelled: \(outcomes.cancelled)")
    }

    private func runOne(
        _ workflow: Workflow, seed: UInt64, _ random: inout SplitMix64,
        _ outcomes: inout (accepted: Int, refused: Int, closed: Int, cancelled: Int)
    ) throws {
        let attributes = Self.attributes(workflow, &random)
        var (state, first) = try OperationState.start(workflow, id: "OP-\(seed)", region: "r1", attributes: attributes, at: .t0, actor: nil)
        var events = first.events
        var armed = Self.applyTimerEffects(first.effects, to: [:])
        var now = Instant.t0
        for step in 0..<80 where !state.phase.isTerminal {
            now = now + Int64.random(in: 0...900_000, using: &random)
            let command = Self.command(for: state, now: &now, &random)
            let before = state
            do {
                let transition = try state.handle(command, at: now, actor: nil)
                outcomes.accepted += 1
                events += transition.events
                armed = Self.applyTimerEffects(transition.effects, to: armed)
            } catch {
                outcomes.refused += 1
                #expect(state == before, "seed \(seed) step \(step): refused \(command) but the state changed")
            }
            let running = Dictionary(uniqueKeysWithValues: state.runningTimers.map { ($0.key, $0.due) })
            #expect(armed == running, "seed \(seed) step \(step) after \(command): effects armed \(armed), state runs \(running)")
            #expect(state.sequence == events.count)
        }
        if state.phase == .closed {
            outcomes.closed += 1
            #expect(state.branches.allSatisfy { $0.status.isEnded }, "seed \(seed): closed with an active branch")
        }
        if state.phase == .cancelled { outcomes.cancelled += 1 }
        if state.phase.isTerminal { #expect(armed.isEmpty && state.timers.isEmpty, "seed \(seed): timers left after the end") }
        #expect(OperationState.replay(workflow, events) == state, "seed \(seed): replay differs from the live state")
    }

    /// Applies arm/cancel effects; a cancel must be for an armed timer.
    static func applyTimerEffects(_ effects: [Effect], to armed: [TimerKey: Instant]) -> [TimerKey: Instant] {
        var armed = armed
        for effect in effects {
            switch effect {
            case .armTimer(let key, let due): armed[key] = due
            case .cancelTimer(let key):
                #expect(armed[key] != nil, "cancelled \(key), which was not armed")
                armed[key] = nil
            default: break
            }
        }
        return armed
    }

    static func attributes(_ workflow: Workflow, _ random: inout SplitMix64) -> [String: String] {
        var values: [String: String] = [:]
        for attribute in workflow.attributes where attribute.required || Bool.random(using: &random) {
            switch attribute.type {
            case .string: values[attribute.name] = "text"
            case .int: values[attribute.name] = String(Int.random(in: 0...100_000, using: &random))
            case .bool: values[attribute.name] = String(Bool.random(using: &random))
            case .priority: values[attribute.name] = "P\(Int.random(in: 1...4, using: &random))"
            case .enumeration(let options): values[attribute.name] = options.randomElement(using: &random)!
            }
        }
        return values
    }

    /// A plausible command: mostly ones the operation accepts now, sometimes wrong ones.
    static func command(for state: OperationState, now: inout Instant, _ random: inout SplitMix64) -> Command {
        let workflow = state.workflow
        let active = state.branches.filter { $0.status == .active }
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<22:
            if case .phase(let index) = state.phase, let event = workflow.phases[index].events.randomElement(using: &random) {
                return .fire(event: event.name)
            }
            return .fire(event: workflow.phases.randomElement(using: &random)!.events.first?.name ?? "none")
        case 22..<55:
            guard let instance = active.randomElement(using: &random) else { return .note("nothing to advance") }
            let step = workflow.branches[instance.definition].steps[instance.step]
            if let outcome = step.outcomes.randomElement(using: &random), Bool.random(using: &random) {
                return .advance(branch: instance.name, to: nil, outcome: outcome.name)
            }
            let targets =
                Int.random(in: 0..<10, using: &random) == 0
                ? workflow.branches[instance.definition].steps.indices.map { $0 } : step.reachableDirectly
            let target = targets.randomElement(using: &random) ?? instance.step
            return .advance(branch: instance.name, to: workflow.branches[instance.definition].steps[target].name, outcome: nil)
        case 55..<70:
            // Let time pass to the next timer and fire it.
            guard let next = state.runningTimers.min(by: { $0.due < $1.due }) else { return .note("no timer") }
            now = max(now, next.due)
            return .timerFired(next.key)
        case 70..<74:
            return .reinforce(branch: workflow.branches.randomElement(using: &random)!.name, units: nil, region: nil)
        case 74..<78:
            return state.hold == nil ? .hold(reason: "awaiting evidence") : .resume
        case 78..<81:
            return .escalate(reason: "supervisor request", to: nil)
        case 81..<85:
            return .acknowledge(.escalation(Int.random(in: 1...3, using: &random)))
        case 85..<88:
            return .reassign(
                region: "r\(Int.random(in: 1...3, using: &random))",
                branch: Bool.random(using: &random) ? active.randomElement(using: &random)?.name : nil)
        case 88..<90:
            return .cancel(reason: workflow.cancelReasons?.randomElement(using: &random) ?? "other")
        case 90..<97:
            // Wind down: stand down everything still active, or close.
            if let instance = active.first {
                return .advance(
                    branch: instance.name,
                    to: workflow.branches[instance.definition].steps[workflow.branches[instance.definition].standDownStep].name,
                    outcome: nil)
            }
            return .close(disposition: workflow.dispositions.randomElement(using: &random)!)
        default:
            return .note("situation report")
        }
    }
}
