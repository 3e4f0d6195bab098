import JointOpsCore
import Testing

/// The engine on the fixture workflow `street-robbery` (Fixtures/valid/minimal.yaml).
@Suite struct EngineTests {
    let workflow: Workflow
    let officer = Actor(uid: 1001, name: "zhang", role: "operate")

    init() throws { workflow = try Repository.minimal() }

    func started(weapon: Bool = false, priority: String = "P2") throws -> OperationState {
        try OperationState.start(
            workflow, id: "OP-1", region: "hexi", attributes: ["priority": priority, "weapon_involved": String(weapon)], at: .t0,
            actor: officer
        ).0
    }

    /// Started, assessed and dispatched at minute 2.
    func inAction(weapon: Bool = false) throws -> OperationState {
        var state = try started(weapon: weapon)
        _ = try state.handle(.fire(event: "assess"), at: .minutes(1), actor: officer)
        _ = try state.handle(.fire(event: "dispatch"), at: .minutes(2), actor: officer)
        return state
    }

    let patrolDeadline = TimerKey(kind: .deadline, index: 0, instance: 0)

    @Test func startRefusesAMissingRequiredAttribute() {
        #expect(throws: Refusal.self) {
            try OperationState.start(workflow, id: "OP-1", region: "hexi", attributes: [:], at: .t0, actor: nil)
        }
        do {
            _ = try OperationState.start(workflow, id: "OP-1", region: "hexi", attributes: [:], at: .t0, actor: nil)
        } catch {
            #expect(error.code == .invalidAttribute)
            #expect(error.reason == "attribute 'priority' is required by workflow 'street-robbery'")
        }
    }

    @Test func startSuggestsTheAttributeMeant() {
        do {
            _ = try OperationState.start(workflow, id: "OP-1", region: "hexi", attributes: ["priorty": "P1"], at: .t0, actor: nil)
            Issue.record("accepted an unknown attribute")
        } catch {
            #expect(error.reason == "workflow 'street-robbery' has no attribute 'priorty'; did you mean 'priority'?")
        }
    }

    @Test func startReadsValuesByType() {
        do {
            _ = try OperationState.start(workflow, id: "OP-1", region: "hexi", attributes: ["priority": "P7"], at: .t0, actor: nil)
            Issue.record("accepted P7")
        } catch {
            #expect(error.reason == "attribute 'priority' must be a priority P1, P2, P3 or P4; got 'P7'")
        }
    }

    @Test func startEntersTheInitialPhaseAndArmsDeadlinesFromTheStart() throws {
        let (state, transition) = try OperationState.start(
            workflow, id: "OP-1", region: "hexi", attributes: ["priority": "P1"], at: .t0, actor: officer)
        #expect(state.phaseName == "reported")
        #expect(transition.events.map(\.event.kind) == ["started", "phase_entered"])
        #expect(transition.events.allSatisfy { $0.actor == officer })
        #expect(transition.effects == [.armTimer(TimerKey(kind: .deadline, index: 1, instance: -1), due: .minutes(30))])
    }

    @Test func swatIsDispatchedOnlyWhenAWeaponIsInvolved() throws {
        #expect(try inAction(weapon: false).branches.map(\.name) == ["patrol"])
        #expect(try inAction(weapon: true).branches.map(\.name) == ["patrol", "swat"])
    }

    @Test func aRefusedEventExplainsItselfAndChangesNothing() throws {
        var state = try started()
        let before = state
        do {
            _ = try state.handle(.fire(event: "dispatch"), at: .minutes(1), actor: officer)
            Issue.record("accepted")
        } catch {
            #expect(error.code == .eventNotAccepted)
            #expect(
                error.description
                    == "event 'dispatch' is not accepted in phase 'reported' (it is accepted in 'assessing') (operation OP-1 is in phase 'reported'); allowed now: fire assess; reinforce swat; hold; reassign; set; escalate; note; cancel"
            )
        }
        #expect(state == before)
    }

    @Test func anOptionalStepMayBeSkippedButNotARequiredOne() throws {
        var state = try inAction()
        do {
            _ = try state.handle(.advance(branch: "patrol", to: "completed", outcome: nil), at: .minutes(3), actor: officer)
            Issue.record("skipped on_scene")
        } catch {
            #expect(error.code == .stepNotAllowed)
            #expect(
                error.reason
                    == "branch 'patrol' cannot go from 'dispatched' to 'completed'; from 'dispatched' it can go to: en_route, stood_down, on_scene"
            )
        }
        _ = try state.handle(.advance(branch: "patrol", to: "on_scene", outcome: nil), at: .minutes(3), actor: officer)
        #expect(state.branches[0].step == workflow.branches[0].step(named: "on_scene"))
    }

    @Test func anOutcomeLeadsToItsStepAndIsRecorded() throws {
        var state = try inAction()
        _ = try state.handle(.advance(branch: "patrol", to: "on_scene", outcome: nil), at: .minutes(3), actor: officer)
        let transition = try state.handle(.advance(branch: "patrol", to: nil, outcome: "escalated"), at: .minutes(4), actor: officer)
        #expect(state.branches[0].status == .failed)
        #expect(state.branches[0].outcome == "escalated")
        #expect(transition.effects.contains(.releaseUnits(instance: "patrol")))
    }

    @Test func aDeadlineIsArmedWhenItsMomentHappensAndCancelledWhenMet() throws {
        var state = try started()
        _ = try state.handle(.fire(event: "assess"), at: .minutes(1), actor: officer)
        let dispatch = try state.handle(.fire(event: "dispatch"), at: .minutes(2), actor: officer)
        #expect(dispatch.effects.contains(.armTimer(patrolDeadline, due: .minutes(12))))
        // Reaching in_action met the 'assessed' deadline.
        #expect(dispatch.effects.contains(.cancelTimer(TimerKey(kind: .deadline, index: 1, instance: -1))))
        let onScene = try state.handle(.advance(branch: "patrol", to: "on_scene", outcome: nil), at: .minutes(8), actor: officer)
        #expect(onScene.effects == [.cancelTimer(patrolDeadline)])
        #expect(state.timers.isEmpty)
    }

    @Test func aDeadlineFiredLateAfterAnOutageIsMissedAtItsDueTime() throws {
        var state = try inAction()
        let due = try #require(state.timers.first { $0.key == patrolDeadline }?.due)
        // The daemon was down: the timer fires ten minutes late.
        _ = try state.handle(.timerFired(patrolDeadline), at: due + 600_000, actor: nil)
        #expect(state.escalations.last?.openedAt == due, "late since the due time, not since the recovery")
    }

    @Test func aMissedDeadlineClimbsItsLadderRungByRung() throws {
        var state = try inAction()
        let miss = try state.handle(.timerFired(patrolDeadline), at: .minutes(12), actor: nil)
        #expect(miss.events.map(\.event.kind) == ["deadline_missed", "escalated"])
        #expect(
            miss.effects.contains(
                .notify(audience: "branch_lead", message: "OP-1: deadline 'patrol_on_scene' missed by patrol, escalation 1 rung 1")))
        #expect(miss.effects.contains(.armTimer(patrolDeadline, due: .minutes(17))))
        let second = try state.handle(.timerFired(patrolDeadline), at: .minutes(17), actor: nil)
        #expect(
            second.effects.contains(
                .notify(audience: "duty_commander", message: "OP-1: deadline 'patrol_on_scene' missed by patrol, escalation 1 rung 2")))
        let third = try state.handle(.timerFired(patrolDeadline), at: .minutes(22), actor: nil)
        #expect(third.events.map(\.event.kind) == ["escalated", "branch_dispatched"])
        #expect(state.branches.map(\.name) == ["patrol", "swat"])
        #expect(!state.timers.contains { $0.key == patrolDeadline }, "the ladder ends after its last rung")
    }

    @Test func aTimerFiringLateRecordsItsLateness() throws {
        var state = try inAction()
        let miss = try state.handle(.timerFired(patrolDeadline), at: .minutes(13), actor: nil)
        #expect(miss.events.first?.event == .deadlineMissed(patrolDeadline, escalation: 1, latenessMilliseconds: 60_000))
    }

    @Test func aTimerCannotFireEarly() throws {
        var state = try inAction()
        #expect(throws: Refusal.self) { try state.handle(.timerFired(patrolDeadline), at: .minutes(11), actor: nil) }
    }

    @Test func acknowledgingStopsTheLadderAndReescalatesIfStillLate() throws {
        var state = try inAction()
        _ = try state.handle(.timerFired(patrolDeadline), at: .minutes(12), actor: nil)
        let ack = try state.handle(.acknowledge(.deadline("patrol_on_scene")), at: .minutes(13), actor: officer)
        #expect(ack.effects == [.armTimer(patrolDeadline, due: .minutes(23))], "re-escalation 10m after the acknowledgement")
        let again = try state.handle(.timerFired(patrolDeadline), at: .minutes(23), actor: nil)
        #expect(again.events.map(\.event) == [.escalated(escalation: 1, rung: 1, latenessMilliseconds: 0)])
        #expect(state.escalations[0].acknowledgedAt == nil)
        #expect(again.effects.contains(.armTimer(patrolDeadline, due: .minutes(28))), "the ladder resumes with its own spacing")
    }

    /// Two instances of one branch miss the same deadline: acknowledging "the deadline" would
    /// pick one silently, so the refusal lists both with their instances and numbers.
    @Test func acknowledgingADeadlineSeveralInstancesMissedAsksWhichOne() throws {
        let source = try DispatchEntryTests.minimal(replacing: "reinforce: [swat]", with: "reinforce: [swat, patrol]")
        let workflow = try #require(WorkflowLoader.load(source: source, file: "two-patrols.yaml").workflow)
        var state = try OperationState.start(
            workflow, id: "OP-1", region: "hexi", attributes: ["priority": "P2", "weapon_involved": "false"], at: .t0, actor: officer
        ).0
        _ = try state.handle(.fire(event: "assess"), at: .minutes(1), actor: officer)
        _ = try state.handle(.fire(event: "dispatch"), at: .minutes(2), actor: officer)
        _ = try state.handle(.reinforce(branch: "patrol", units: nil, region: nil), at: .minutes(2), actor: officer)
        // Both instances' deadlines are due at 12 minutes: the first to fire fires both.
        _ = try state.handle(.timerFired(patrolDeadline), at: .minutes(12), actor: nil)
        #expect(state.escalations.map(\.number) == [1, 2])
        do {
            _ = try state.handle(.acknowledge(.deadline("patrol_on_scene")), at: .minutes(13), actor: officer)
            Issue.record("acknowledged one of two open escalations without being told which")
        } catch {
            #expect(
                error.reason
                    == "deadline 'patrol_on_scene' has 2 open escalations: 1 (patrol), 2 (patrol#2); acknowledge one by its number (jointopsctl acknowledge OP-1 1)"
            )
        }
        _ = try state.handle(.acknowledge(.escalation(2)), at: .minutes(13), actor: officer)
        let ack = try state.handle(.acknowledge(.deadline("patrol_on_scene")), at: .minutes(14), actor: officer)
        #expect(ack.events.map(\.event.kind) == ["escalation_acknowledged"])
        #expect(state.escalations.allSatisfy { $0.acknowledgedAt != nil }, "the one left open was the one meant")
    }

    @Test func meetingALateDeadlineResolvesItsEscalation() throws {
        var state = try inAction()
        _ = try state.handle(.timerFired(patrolDeadline), at: .minutes(12), actor: nil)
        _ = try state.handle(.advance(branch: "patrol", to: "on_scene", outcome: nil), at: .minutes(14), actor: officer)
        #expect(state.escalations[0].resolvedAt == .minutes(14))
        #expect(state.timers.isEmpty)
    }

    @Test func holdingWithAPausedClockShiftsDeadlinesByTheHold() throws {
        var state = try inAction()
        let hold = try state.handle(.hold(reason: "awaiting warrant"), at: .minutes(6), actor: officer)
        #expect(hold.effects == [.cancelTimer(patrolDeadline)])
        let resume = try state.handle(.resume, at: .minutes(16), actor: officer)
        #expect(resume.effects == [.armTimer(patrolDeadline, due: .minutes(22))])
    }

    @Test func anOperationOnHoldRefusesWorkButTakesNotes() throws {
        var state = try inAction()
        _ = try state.handle(.hold(reason: "awaiting warrant"), at: .minutes(6), actor: officer)
        do {
            _ = try state.handle(.advance(branch: "patrol", to: "on_scene", outcome: nil), at: .minutes(7), actor: officer)
            Issue.record("advanced while held")
        } catch {
            #expect(error.code == .onHold)
            #expect(error.reason == "operation OP-1 is on hold since 2026-11-29T00:06:00Z (awaiting warrant); resume it first")
        }
        _ = try state.handle(.note("warrant requested from court"), at: .minutes(7), actor: officer)
    }

    @Test func cancellingStandsDownEveryActiveBranch() throws {
        var state = try inAction(weapon: true)
        let cancel = try state.handle(.cancel(reason: "false_alarm"), at: .minutes(5), actor: officer)
        #expect(state.phase == .cancelled)
        #expect(state.branches.allSatisfy { $0.status == .stoodDown })
        #expect(state.timers.isEmpty)
        #expect(cancel.effects.contains(.releaseUnits(instance: "swat")))
        #expect(cancel.effects.contains(.cancelTimer(patrolDeadline)))
    }

    @Test func aCancelReasonMustBeOneOfTheWorkflows() throws {
        var state = try inAction()
        do {
            _ = try state.handle(.cancel(reason: "false_alarn"), at: .minutes(5), actor: officer)
            Issue.record("accepted")
        } catch {
            #expect(
                error.reason
                    == "'false_alarn' is not a cancel reason of workflow 'street-robbery'; did you mean 'false_alarm'?; reasons: false_alarm, duplicate"
            )
        }
    }

    @Test func closingWaitsForEveryBranchToEnd() throws {
        var state = try inAction(weapon: true)
        _ = try state.handle(.advance(branch: "patrol", to: "on_scene", outcome: nil), at: .minutes(5), actor: officer)
        _ = try state.handle(.advance(branch: "patrol", to: nil, outcome: "handled"), at: .minutes(6), actor: officer)
        #expect(state.phaseName == "in_action", "swat is still active, so the join waits")
        do {
            _ = try state.handle(.close(disposition: "resolved"), at: .minutes(7), actor: officer)
            Issue.record("closed")
        } catch {
            #expect(error.reason == "operation OP-1 cannot close in phase 'in_action'; it closes from: reviewing")
        }
        let join = try state.handle(.advance(branch: "swat", to: "stood_down", outcome: nil), at: .minutes(8), actor: officer)
        #expect(join.events.map(\.event.kind) == ["step_entered", "phase_entered"])
        #expect(state.phaseName == "reviewing")
        _ = try state.handle(.close(disposition: "resolved"), at: .minutes(9), actor: officer)
        #expect(state.phase == .closed)
        #expect(state.ending == "resolved")
    }

    @Test func anActiveBranchBlocksClosing() throws {
        var state = try inAction()
        _ = try state.handle(.advance(branch: "patrol", to: "stood_down", outcome: nil), at: .minutes(3), actor: officer)
        _ = try state.handle(.fire(event: "reopen"), at: .minutes(4), actor: officer)
        #expect(state.branches.map(\.name) == ["patrol", "patrol#2"], "re-entering in_action dispatches a fresh patrol")
        _ = try state.handle(.reinforce(branch: "swat", units: 3, region: nil), at: .minutes(5), actor: officer)
        _ = try state.handle(.advance(branch: "patrol#2", to: "stood_down", outcome: nil), at: .minutes(6), actor: officer)
        #expect(state.phaseName == "in_action", "the reinforcing swat is still active")
        do {
            _ = try state.handle(.fire(event: "reopen"), at: .minutes(7), actor: officer)
        } catch {
            #expect(error.code == .eventNotAccepted)
        }
    }

    @Test func onlyListedBranchesMayReinforce() throws {
        var state = try inAction()
        do {
            _ = try state.handle(.reinforce(branch: "patrol", units: nil, region: nil), at: .minutes(3), actor: officer)
            Issue.record("reinforced patrol")
        } catch {
            #expect(error.code == .notReinforceable)
            #expect(error.reason == "branch 'patrol' cannot be added at run time; workflow 'street-robbery' allows reinforcing swat")
        }
        _ = try state.handle(.reinforce(branch: "swat", units: 4, region: "hedong"), at: .minutes(3), actor: officer)
        _ = try state.handle(.reinforce(branch: "swat", units: nil, region: nil), at: .minutes(4), actor: officer)
        #expect(state.branches.map(\.name) == ["patrol", "swat", "swat#2"])
        #expect(state.branches[1].units == 4 && state.branches[1].region == "hedong")
    }

    @Test func reassigningMovesTheOperationAndTheBranchesInItsRegion() throws {
        var state = try inAction(weapon: true)
        _ = try state.handle(.reassign(region: "hedong", branch: "swat"), at: .minutes(3), actor: officer)
        _ = try state.handle(.reassign(region: "nankai", branch: nil), at: .minutes(4), actor: officer)
        #expect(state.region == "nankai")
        #expect(state.branches.map(\.region) == ["nankai", "hedong"])
    }

    @Test func anEndedOperationRefusesEverything() throws {
        var state = try inAction()
        _ = try state.handle(.cancel(reason: "duplicate"), at: .minutes(3), actor: officer)
        do {
            _ = try state.handle(.note("late note"), at: .minutes(4), actor: officer)
            Issue.record("accepted")
        } catch {
            #expect(error.code == .operationEnded)
            #expect(
                error.reason
                    == "operation OP-1 is cancelled (duplicate); all that remains is to read its report (jointopsctl report operation OP-1)"
            )
        }
    }

    @Test func aManualEscalationIsAcknowledgedOnce() throws {
        var state = try inAction()
        let raise = try state.handle(.escalate(reason: "crowd gathering", to: nil), at: .minutes(3), actor: officer)
        #expect(raise.effects == [.notify(audience: "duty_commander", message: "OP-1: escalation 1: crowd gathering")])
        _ = try state.handle(.acknowledge(.escalation(1)), at: .minutes(4), actor: officer)
        #expect(throws: Refusal.self) { try state.handle(.acknowledge(.escalation(1)), at: .minutes(5), actor: officer) }
    }

    @Test func theAllowedCommandsListTheUnacknowledgedEscalations() throws {
        var state = try inAction()
        #expect(!state.allowedNow().contains { $0.hasPrefix("acknowledge") })
        _ = try state.handle(.escalate(reason: "crowd gathering", to: nil), at: .minutes(3), actor: officer)
        _ = try state.handle(.escalate(reason: "second crowd", to: nil), at: .minutes(4), actor: officer)
        #expect(state.allowedNow().contains("acknowledge 1 | 2"))
        _ = try state.handle(.acknowledge(.escalation(1)), at: .minutes(5), actor: officer)
        #expect(state.allowedNow().contains("acknowledge 2"))
        #expect(!state.allowedNow().contains { $0.hasPrefix("acknowledge 1") })
    }

    @Test func replayOfTheEventsRebuildsTheState() throws {
        var (state, first) = try OperationState.start(
            workflow, id: "OP-1", region: "hexi", attributes: ["priority": "P1", "weapon_involved": "true"], at: .t0, actor: officer)
        var events = first.events
        for (minute, command) in [
            (1, Command.fire(event: "assess")), (2, .fire(event: "dispatch")), (20, .timerFired(patrolDeadline)), (21, .hold(reason: "x")),
            (30, .resume), (31, .advance(branch: "patrol", to: "on_scene", outcome: nil)),
        ] {
            events += try state.handle(command, at: .minutes(Int64(minute)), actor: officer).events
        }
        #expect(OperationState.replay(workflow, events) == state)
    }
}

/// Planned against actual, replayed from the events.
@Suite struct DeadlineHistoryTests {
    @Test func everyDeadlineRunIsMetMissedOrDropped() throws {
        let workflow = try Repository.minimal()
        var (state, start) = try OperationState.start(
            workflow, id: "OP-H", region: "hexi", attributes: ["priority": "P1"], at: .t0, actor: nil)
        var events = start.events
        func run(_ command: Command, _ minute: Int64) throws {
            events += try state.handle(command, at: .minutes(minute), actor: nil).events
        }
        try run(.fire(event: "assess"), 1)
        try run(.fire(event: "dispatch"), 2)  // 'assessed' (30m from start) met at 2m; patrol's clock starts
        try run(.timerFired(TimerKey(kind: .deadline, index: 0, instance: 0)), 12)  // patrol on scene missed at 12m
        try run(.advance(branch: "patrol", to: "on_scene", outcome: nil), 14)  // …and reached late
        try run(.advance(branch: "patrol", to: "stood_down", outcome: nil), 15)
        try run(.fire(event: "reopen"), 16)  // a new patrol, whose deadline is dropped when it stands down
        try run(.advance(branch: "patrol#2", to: "stood_down", outcome: nil), 17)
        let runs = OperationState.deadlineHistory(workflow, events)
        let summary = runs.map {
            "\(workflow.deadlines[$0.deadline].id)@\($0.instance.map { state.branches[$0].name } ?? "-") \($0.outcome.rawValue) due+\(($0.due.milliseconds - Instant.t0.milliseconds) / 60_000)m at \($0.settledAt.map { ($0.milliseconds - Instant.t0.milliseconds) / 60_000 } ?? -1)m"
        }
        #expect(
            summary == [
                "assessed@- met due+30m at 2m",
                "patrol_on_scene@patrol met_late due+12m at 14m",
                "patrol_on_scene@patrol#2 dropped due+26m at 17m",
            ])
        #expect(runs[1].escalation == 1)
    }

    /// Reproducer: the report's DUE column and lateness used the due time the deadline was
    /// armed with, though a hold with a paused clock had moved it later.
    @Test func aHoldWithAPausedClockMovesTheDueTime() throws {
        let workflow = try Repository.minimal()
        var (state, start) = try OperationState.start(
            workflow, id: "OP-P", region: "hexi", attributes: ["priority": "P1"], at: .t0, actor: nil)
        var events = start.events
        func run(_ command: Command, _ minute: Int64) throws {
            events += try state.handle(command, at: .minutes(minute), actor: nil).events
        }
        try run(.fire(event: "assess"), 1)
        try run(.fire(event: "dispatch"), 2)  // patrol on scene due at 12m
        try run(.hold(reason: "radio outage"), 5)
        try run(.resume, 9)  // 4 minutes paused: due at 16m
        try run(.advance(branch: "patrol", to: "on_scene", outcome: nil), 15)
        let patrol = try #require(OperationState.deadlineHistory(workflow, events).first { $0.deadline == 0 && $0.instance == 0 })
        #expect(patrol.due == .minutes(16))
        #expect(patrol.outcome == .met)
    }

    @Test func aDeadlineReachedAfterItsLadderEndedIsMetLate() throws {
        let workflow = try Repository.minimal()
        var (state, start) = try OperationState.start(
            workflow, id: "OP-L", region: "hexi", attributes: ["priority": "P1"], at: .t0, actor: nil)
        var events = start.events
        func run(_ command: Command, _ minute: Int64) throws {
            events += try state.handle(command, at: .minutes(minute), actor: nil).events
        }
        try run(.fire(event: "assess"), 1)
        try run(.fire(event: "dispatch"), 2)
        for minute in [12, 17, 22] as [Int64] { try run(.timerFired(TimerKey(kind: .deadline, index: 0, instance: 0)), minute) }
        #expect(!state.timers.contains { $0.key == TimerKey(kind: .deadline, index: 0, instance: 0) }, "the ladder has ended")
        try run(.advance(branch: "patrol", to: "on_scene", outcome: nil), 30)
        let patrol = OperationState.deadlineHistory(workflow, events).first { $0.deadline == 0 && $0.instance == 0 }
        #expect(patrol?.outcome == .metLate)
        #expect(patrol?.settledAt == .minutes(30))
    }
}
