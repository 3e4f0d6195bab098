/// What happens when an armed timer comes due: a phase timer fires its event; a deadline
/// is missed and its escalation ladder climbs rung by rung.
extension OperationState {
    mutating func timerFired(_ key: TimerKey, _ context: inout DecisionContext) throws(Refusal) {
        guard let timer = timers.first(where: { $0.key == key }) else {
            throw refusal(.timerNotDue, "no timer \(key) is armed (it was met, cancelled or has already fired)")
        }
        guard timer.due <= context.at else {
            throw refusal(.timerNotDue, "timer \(key) is due at \(timer.due), not yet at \(context.at)")
        }
        let lateness = context.at.since(timer.due)
        switch key.kind {
        case .phase:
            let event = workflow.phases[key.instance].timers[key.index].event
            do throws(Refusal) {
                guard hold == nil else { throw refusal(.onHold, "operation \(id) is on hold") }
                let target = try target(of: event)
                emit(.phaseTimerElapsed(key, latenessMilliseconds: lateness, refusal: nil), &context)
                enter(target, cause: .event(event), &context)
            } catch {
                emit(.phaseTimerElapsed(key, latenessMilliseconds: lateness, refusal: error.reason), &context)
            }
        case .deadline:
            let deadline = workflow.deadlines[key.index]
            if let escalation = escalations.last(where: { $0.timer == key && $0.isOpen }) {
                let rung = escalation.acknowledgedAt == nil ? escalation.rungsFired : min(escalation.rungsFired, deadline.ladder.count - 1)
                fireRung(rung, of: escalation.number, deadline: deadline, lateness: lateness, &context)
            } else {
                let number = (escalations.last?.number ?? 0) + 1
                emit(.deadlineMissed(key, escalation: number, latenessMilliseconds: lateness), &context)
                context.effects.append(
                    .notify(audience: "command_center", message: "\(id): deadline '\(deadline.id)' missed\(instanceSuffix(key))"))
                // Rungs at the deadline itself (`after: 0m`) fire with the miss.
                var rung = 0
                while rung < deadline.ladder.count, deadline.ladder[rung].after.approximateMilliseconds == 0 {
                    fireRung(rung, of: number, deadline: deadline, lateness: lateness, &context)
                    rung += 1
                }
            }
        }
    }

    private mutating func fireRung(
        _ rung: Int, of number: Int, deadline: DeadlineDefinition, lateness: Int64, _ context: inout DecisionContext
    ) {
        guard rung >= 0, rung < deadline.ladder.count else { return }
        let firedBefore = escalations.first { $0.number == number }?.rungsFired ?? 0
        // An `event:` rung is applied like a phase timer's: if the phase does not accept the
        // event now (or the operation is held), the rung is recorded as fired but not applied.
        var target: Int?
        var refused: String?
        if case .event(let event) = deadline.ladder[rung].action {
            do throws(Refusal) {
                guard hold == nil else { throw refusal(.onHold, "operation \(id) is on hold") }
                target = try self.target(of: event)
            } catch {
                refused = error.reason
            }
        }
        emit(.escalated(escalation: number, rung: rung, latenessMilliseconds: lateness, refusal: refused), &context)
        let key = escalations.first { $0.number == number }?.timer
        switch deadline.ladder[rung].action {
        case .notify(let audience):
            context.effects.append(
                .notify(
                    audience: audience,
                    message:
                        "\(id): deadline '\(deadline.id)' missed\(key.map(instanceSuffix) ?? ""), escalation \(number) rung \(rung + 1)"))
        case .reinforce(let branch):
            if let withheld = reinforcementWithheld(rung: rung, firedBefore: firedBefore, escalation: number, key: key, deadline: deadline)
            {
                emit(.noted(withheld), &context)
                context.effects.append(.notify(audience: "command_center", message: "\(id): \(withheld)"))
            } else {
                emit(reinforcement(of: branch, late: key), &context)
            }
        case .event(let event):
            if let target { enter(target, cause: .event(event), &context) }
        }
    }

    /// What a `reinforce` rung dispatches. Reinforcing the branch whose deadline was missed, it
    /// sends what that late instance was sent with: its current region (after any reassign),
    /// its number of units and the capabilities its dispatch added. Reinforcing another
    /// branch (or for an operation-wide deadline), the branch's default units go to the
    /// operation's region.
    private func reinforcement(of branch: Int, late key: TimerKey?) -> OperationEvent {
        if let key, key.instance >= 0, key.instance < branches.count, branches[key.instance].definition == branch {
            let late = branches[key.instance]
            let own = workflow.branches[branch].capabilities
            return .branchDispatched(
                branch: branch, region: late.region, units: late.units, reason: .escalation,
                capabilities: late.requiredCapabilities.filter { !own.contains($0) })
        }
        return .branchDispatched(branch: branch, region: region, units: workflow.branches[branch].units, reason: .escalation)
    }

    /// Why a `reinforce` rung sends no one this time, or nil: a ladder reinforces once. Not
    /// again when the rung fires again (a re-escalation repeats the last rung every
    /// `reescalate`), and not for a branch instance dispatched after an earlier miss of the
    /// same deadline — a reinforcement's own deadline would otherwise reinforce it in turn,
    /// and the chain would take every unit of that kind. Operators reinforce by hand.
    private func reinforcementWithheld(
        rung: Int, firedBefore: Int, escalation number: Int, key: TimerKey?, deadline: DeadlineDefinition
    ) -> String? {
        if rung < firedBefore {
            return
                "escalation \(number) of '\(deadline.id)': its reinforcement was sent when the rung first fired; no further one (reinforce by hand if needed)"
        }
        guard let key, key.instance >= 0, key.instance < branches.count else { return nil }
        let instance = branches[key.instance]
        let earlier = escalations.first {
            $0.number != number && $0.timer?.kind == .deadline && $0.timer?.index == key.index && $0.openedAt <= instance.dispatchedAt
        }
        guard let earlier else { return nil }
        return
            "deadline '\(deadline.id)' missed by \(instance.name), which was sent after its earlier miss (escalation \(earlier.number)): no further automatic reinforcement (reinforce by hand if needed)"
    }

    private func instanceSuffix(_ key: TimerKey) -> String {
        key.instance >= 0 && key.kind == .deadline ? " by \(branches[key.instance].name)" : ""
    }
}
