import JointOpsCore
import Testing

/// A deadline to reach a step is met when the branch enters that step or any step after it
/// (it has got at least that far): an optional step skipped, or passed by another route.
/// On the fixture workflow with its patrol deadline moved to the optional `en_route`.
@Suite struct DeadlineReachTests {
    let workflow: Workflow
    /// The patrol's deadline, `patrol.en_route` within 10 minutes of dispatch.
    let key = TimerKey(kind: .deadline, index: 0, instance: 0)

    init() throws {
        let source = try Repository.text(Repository.fixtures.appendingPathComponent("valid/minimal.yaml"))
        let edited = source.replacingOccurrences(of: "reach: patrol.on_scene", with: "reach: patrol.en_route")
        let result = WorkflowLoader.load(source: edited, file: "optional-reach.yaml")
        workflow = try #require(result.workflow, "\(result.diagnostics)")
    }

    /// Dispatched at minute 2; the events so far.
    func dispatched() throws -> (OperationState, [RecordedEvent]) {
        var (state, start) = try OperationState.start(
            workflow, id: "OP-R", region: "hexi", attributes: ["priority": "P1"], at: .t0, actor: nil)
        var events = start.events
        events += try state.handle(.fire(event: "assess"), at: .minutes(1), actor: nil).events
        events += try state.handle(.fire(event: "dispatch"), at: .minutes(2), actor: nil).events
        #expect(state.timers.contains { $0.key == key })
        return (state, events)
    }

    /// Reproducer: the patrol went straight on scene, skipping the optional `en_route`, and
    /// its deadline to be en route was missed all the same.
    @Test func skippingTheOptionalStepMeetsTheDeadline() throws {
        var (state, events) = try dispatched()
        events += try state.handle(.advance(branch: "patrol", to: "on_scene", outcome: nil), at: .minutes(3), actor: nil).events
        #expect(!state.timers.contains { $0.key == key }, "met: the patrol has got further than en route")
        #expect(state.escalations.isEmpty)
        let run = try #require(OperationState.deadlineHistory(workflow, events).first { $0.deadline == 0 })
        #expect(run.outcome == .met)
        #expect(run.settledAt == .minutes(3))
        #expect(OperationState.replay(workflow, events) == state)
    }

    @Test func passingTheStepLateMeetsItLate() throws {
        var (state, events) = try dispatched()
        events += try state.handle(.timerFired(key), at: .minutes(12), actor: nil).events
        events += try state.handle(.advance(branch: "patrol", to: "on_scene", outcome: nil), at: .minutes(13), actor: nil).events
        #expect(state.escalations.allSatisfy { !$0.isOpen }, "the late deadline's escalation is resolved")
        let run = try #require(OperationState.deadlineHistory(workflow, events).first { $0.deadline == 0 })
        #expect(run.outcome == .metLate)
        #expect(run.settledAt == .minutes(13))
    }

    /// Ending is not getting there: a stood-down (or failed) branch drops the deadline.
    @Test func endingWithoutGettingThereDropsIt() throws {
        var (state, events) = try dispatched()
        events += try state.handle(.advance(branch: "patrol", to: "stood_down", outcome: nil), at: .minutes(3), actor: nil).events
        let run = try #require(OperationState.deadlineHistory(workflow, events).first { $0.deadline == 0 })
        #expect(run.outcome == .dropped)
    }

    /// What each step counts as having reached: itself, and the steps it is strictly after.
    @Test func eachStepCountsAsReachingTheStepsBeforeIt() throws {
        let patrol = workflow.branches[try #require(workflow.branch(named: "patrol"))]
        func names(_ step: String) throws -> Set<String> {
            Set(patrol.steps[try #require(patrol.step(named: step))].countsAsReaching.map { patrol.steps[$0].name })
        }
        #expect(try names("dispatched") == ["dispatched"])
        #expect(try names("en_route") == ["en_route", "dispatched"])
        #expect(try names("on_scene") == ["on_scene", "en_route", "dispatched"])
        #expect(try names("stood_down") == ["stood_down"], "an end step counts as reaching itself only")
    }

    /// A step that can lead back to the target is not after it: in a cycle neither step is
    /// further than the other.
    @Test func aStepThatCanLeadBackIsNotPastIt() throws {
        let source = try Repository.text(Repository.fixtures.appendingPathComponent("valid/minimal.yaml"))
        let edited = source.replacingOccurrences(
            of: "on_scene: {outcomes: {handled: completed, escalated: failed}, next: [stood_down]}",
            with: "on_scene: {outcomes: {handled: completed, escalated: failed}, next: [en_route, stood_down]}")
        let cyclic = try #require(WorkflowLoader.load(source: edited, file: "cycle.yaml").workflow)
        let patrol = cyclic.branches[try #require(cyclic.branch(named: "patrol"))]
        let onScene = try #require(patrol.step(named: "on_scene"))
        #expect(patrol.steps[onScene].countsAsReaching.map { patrol.steps[$0].name } == ["on_scene", "dispatched"])
    }
}
