import Foundation
import JointOpsAuthoring
import JointOpsCore
import Testing

enum Paths {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let workflows = root.appendingPathComponent("Workflows")
    static let scenarios = workflows.appendingPathComponent("scenarios")

    static func yamlFiles(in folder: URL) -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".yaml") }.sorted().map { folder.appendingPathComponent($0) }
    }

    static func workflow(for scenario: URL) throws -> Workflow {
        let name = scenario.deletingPathExtension().lastPathComponent
        let file = try #require(
            yamlFiles(in: workflows).filter {
                name == $0.deletingPathExtension().lastPathComponent || name.hasPrefix($0.deletingPathExtension().lastPathComponent + "-")
            }.max { $0.lastPathComponent.count < $1.lastPathComponent.count })
        let result = WorkflowLoader.load(source: try String(contentsOf: file, encoding: .utf8), file: file.path)
        return try #require(result.workflow, "\(result.diagnostics)")
    }
}

@Suite struct ScenarioTests {
    static let scenarios = Paths.yamlFiles(in: Paths.scenarios)

    @Test func everyWorkflowHasScenariosToRun() {
        #expect(Self.scenarios.count >= 6)
    }

    @Test("every shipped scenario passes, and replaying its events rebuilds the final state", arguments: scenarios)
    func scenarioPasses(_ url: URL) throws {
        let workflow = try Paths.workflow(for: url)
        let (scenario, diagnostics) = ScenarioParser.parse(
            source: try String(contentsOf: url, encoding: .utf8), file: url.lastPathComponent)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let report = ScenarioRunner.run(try #require(scenario), workflow: workflow)
        #expect(report.failures == [])
        let final = try #require(report.finalState)
        #expect(OperationState.replay(workflow, report.events) == final)
    }

    static let robbery = """
        workflow: street-robbery
        version: 1
        title: Street robbery
        phases:
          reported:
            initial: true
            on: {dispatch: in_action}
          in_action:
            dispatch: [patrol]
            join:
              - {all: ended, to: reviewing}
          reviewing: {}
        branches:
          patrol:
            kind: public_order
            steps:
              dispatched: {initial: true, next: [on_scene, stood_down]}
              on_scene: {next: [completed]}
              completed: {end: completed}
              stood_down: {end: stood_down}
        deadlines:
          - id: on_scene
            reach: patrol.on_scene
            from: patrol.dispatched
            within: 10m
            escalation:
              - {after: 0m, notify: branch_lead}
              - {after: 5m, notify: duty_commander}
        close: {from: [reviewing], dispositions: [resolved]}
        """

    @Test func aFailedExpectationShowsExpectedAgainstActual() throws {
        let workflow = try #require(WorkflowLoader.load(source: Self.robbery, file: "robbery.yaml").workflow)
        let source = """
            scenario: late patrol
            start: {id: OP-9, region: hexi}
            timeline:
              - {at: 1m, fire: dispatch}
              - at: 20m
                expect:
                  phase: reviewing
                  steps: {patrol: on_scene}
                  escalations: [on_scene/1]
              - {at: 21m, close: {disposition: resolved}, refused: "cannot close"}
            """
        let (scenario, diagnostics) = ScenarioParser.parse(source: source, file: "late.yaml")
        #expect(diagnostics.isEmpty)
        let report = ScenarioRunner.run(try #require(scenario), workflow: workflow)
        #expect(
            report.failures == [
                "late.yaml:5:5 (T+00:20:00): expected phase 'reviewing', actual 'in_action'",
                "late.yaml:5:5 (T+00:20:00): expected branch 'patrol' at step 'on_scene', actual 'dispatched'",
                "late.yaml:5:5 (T+00:20:00): expected escalations [on_scene/1], actual [on_scene/1, on_scene/2]",
            ])
        #expect(report.lines.contains("T+00:11:00  deadline on_scene missed by patrol (escalation 1)"))
        #expect(report.lines.contains("T+00:16:00  escalation 1 rung 2 of on_scene: notify duty_commander"))
    }

    /// Reproducer: a deadline to reach an optional step escalated although the branch had
    /// skipped past it; reaching a later step meets it.
    @Test func aDeadlineOnASkippedOptionalStepIsMet() throws {
        let source = Self.robbery.replacingOccurrences(
            of: "dispatched: {initial: true, next: [on_scene, stood_down]}",
            with:
                "dispatched: {initial: true, next: [en_route, stood_down]}\n      en_route: {optional: true, next: [on_scene, stood_down]}"
        ).replacingOccurrences(of: "reach: patrol.on_scene", with: "reach: patrol.en_route")
        let workflow = try #require(WorkflowLoader.load(source: source, file: "robbery.yaml").workflow)
        let scenario = """
            scenario: straight on scene
            start: {id: OP-9, region: hexi}
            timeline:
              - {at: 1m, fire: dispatch}
              - {at: 2m, advance: {branch: patrol, to: on_scene}}
              - at: 30m
                expect: {steps: {patrol: on_scene}, escalations: []}
            """
        let (parsed, diagnostics) = ScenarioParser.parse(source: scenario, file: "skip.yaml", workflow: workflow)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let report = ScenarioRunner.run(try #require(parsed), workflow: workflow)
        #expect(report.failures == [])
    }

    /// Two phases whose timers fire each other: every second, forever, with nobody acting.
    static let pingPong = """
        workflow: ping-pong
        version: 1
        title: Ping pong
        phases:
          ping:
            initial: true
            on: {go: pong}
            after: [{delay: 1s, event: go}]
          pong:
            on: {back: ping}
            after: [{delay: 1s, event: back}]
        close: {from: [ping, pong], dispositions: [resolved]}
        """

    @Test func aTimerLoopStopsTheRunAsAFailureInsteadOfPassing() throws {
        let workflow = try #require(WorkflowLoader.load(source: Self.pingPong, file: "ping-pong.yaml").workflow)
        let source = """
            scenario: left alone
            start: {id: OP-9, region: hexi}
            timeline:
              - {at: 1d, expect: {phase: ping}}
            """
        let (scenario, _) = ScenarioParser.parse(source: source, file: "alone.yaml")
        let report = ScenarioRunner.run(try #require(scenario), workflow: workflow)
        #expect(
            report.failures == [
                "alone.yaml:4:5: stopped after 10000 timer firings at T+02:46:40: a timer loop? (timers that fire each other with no operator action between)"
            ])
        let passed = report.passed
        #expect(!passed)
    }

    @Test func namesAnExpectationGivesThatTheWorkflowLacksAreReportedBeforeRunning() throws {
        let workflow = try #require(WorkflowLoader.load(source: Self.robbery, file: "robbery.yaml").workflow)
        let source = """
            scenario: typos
            workflow: street-robbery
            start: {id: OP-9, region: hexi}
            timeline:
              - {at: 1m, fire: dispatch}
              - at: 2m
                expect:
                  phase: in_acton
                  steps: {patrl: on_scene, patrol#2: on_scen}
                  statuses: {patrol: done}
                  escalations: [on_scen/1, on_scene/3]
            """
        let (scenario, diagnostics) = ScenarioParser.parse(source: source, file: "typos.yaml", workflow: workflow)
        #expect(scenario == nil)
        #expect(
            diagnostics.map(\.description) == [
                "typos.yaml:8:14: error: workflow 'street-robbery' has no phase 'in_acton'; did you mean 'in_action'?",
                "typos.yaml:9:15: error: workflow 'street-robbery' has no branch 'patrl'; did you mean 'patrol'?",
                "typos.yaml:9:42: error: branch 'patrol' has no step 'on_scen'; did you mean 'on_scene'?",
                "typos.yaml:10:26: error: the status of 'patrol' must be one of not_dispatched, active, completed, failed, stood_down; found 'done'",
                "typos.yaml:11:21: error: workflow 'street-robbery' has no deadline 'on_scen'; did you mean 'on_scene'?",
                "typos.yaml:11:41: error: deadline 'on_scene' has 2 escalation rungs, not 3",
            ])
    }

    /// Reproducer: `fire: dispach` ran until that entry and failed there as a refusal, after
    /// everything before it had run, instead of being reported where it is written.
    @Test func namesACommandGivesThatTheWorkflowLacksAreReportedBeforeRunning() throws {
        let workflow = try #require(WorkflowLoader.load(source: Self.robbery, file: "robbery.yaml").workflow)
        let source = """
            scenario: command typos
            start: {id: OP-9, region: hexi}
            timeline:
              - {at: 1m, fire: dispach}
              - {at: 2m, advance: {branch: patrl, to: on_scene}}
              - {at: 3m, advance: {branch: patrol, to: on_scen}}
              - {at: 4m, reinforce: {branch: swat}}
              - {at: 5m, acknowledge: {deadline: onscene}}
              - {at: 6m, close: {disposition: resolvd}}
              - {at: 7m, fire: no_such_event, refused: "no event"}
            """
        let (scenario, diagnostics) = ScenarioParser.parse(source: source, file: "commands.yaml", workflow: workflow)
        #expect(scenario == nil)
        #expect(
            diagnostics.map(\.description) == [
                "commands.yaml:4:20: error: workflow 'street-robbery' has no event 'dispach'; did you mean 'dispatch'?",
                "commands.yaml:5:32: error: workflow 'street-robbery' has no branch 'patrl'; did you mean 'patrol'?",
                "commands.yaml:6:44: error: branch 'patrol' has no step 'on_scen'; did you mean 'on_scene'?",
                "commands.yaml:7:34: error: workflow 'street-robbery' has no branch 'swat'; branches: patrol",
                "commands.yaml:8:38: error: workflow 'street-robbery' has no deadline 'onscene'; did you mean 'on_scene'?",
                "commands.yaml:9:35: error: workflow 'street-robbery' has no disposition 'resolvd'; did you mean 'resolved'?",
            ])
    }

    @Test func aScenarioForAnotherWorkflowOrWithBadAttributesIsReportedWhereItSaysSo() throws {
        let minimal = try String(
            contentsOf: Paths.root.appendingPathComponent("Tests/JointOpsCoreTests/Fixtures/valid/minimal.yaml"), encoding: .utf8)
        let workflow = try #require(WorkflowLoader.load(source: minimal, file: "minimal.yaml").workflow)
        let source = """
            scenario: wrong start
            workflow: armed-response
            start:
              id: OP-9
              region: hexi
              attributes: {weapon_involved: maybe, incident: robbery}
            timeline:
              - {at: 1m, fire: assess}
            """
        let (scenario, diagnostics) = ScenarioParser.parse(source: source, file: "start.yaml", workflow: workflow)
        #expect(scenario == nil)
        #expect(
            diagnostics.map(\.description) == [
                "start.yaml:2:11: error: this scenario is for workflow 'armed-response', not 'street-robbery'; simulate it with that workflow's file, or correct 'workflow:'",
                "start.yaml:6:15: error: attribute 'priority' is required by workflow 'street-robbery'; add it to 'attributes'",
                "start.yaml:6:33: error: attribute 'weapon_involved' must be true or false (yes and no are taken too); found 'maybe'",
                "start.yaml:6:40: error: workflow 'street-robbery' has no attribute 'incident'; attributes: priority, weapon_involved, incident_type",
            ])
    }

    @Test func aWorkflowFilePassedAsTheScenarioIsSaidToBeOne() {
        let (scenario, diagnostics) = ScenarioParser.parse(source: Self.robbery, file: "robbery.yaml")
        #expect(scenario == nil)
        #expect(
            diagnostics.map(\.description) == [
                "robbery.yaml:4:1: error: this looks like a workflow file (it has 'phases'); pass a scenario file to --scenario"
            ])
    }

    @Test func aScenarioWithAMistakeIsReportedWithItsPosition() {
        let source = """
            scenario: broken
            start: {id: OP-9, region: hexi}
            timeline:
              - {at: 5m, fire: dispatch}
              - {at: 1m, advance: {branch: patrol, too: on_scene}}
              - {at: 6m, fire: x, note: y}
            """
        let (scenario, diagnostics) = ScenarioParser.parse(source: source, file: "broken.yaml")
        #expect(scenario == nil)
        #expect(
            diagnostics.map(\.description) == [
                "broken.yaml:5:5: error: timeline entries must not go back in time: 1m comes after 5m",
                "broken.yaml:5:40: error: unknown key 'too' in 'advance'; did you mean 'to'?",
                "broken.yaml:6:5: error: a timeline entry needs exactly one of fire, advance, reinforce, reassign, hold, resume, escalate, acknowledge, note, set, cancel, close, expect; found fire and note",
            ])
    }
}

extension ScenarioTests {
    /// A scenario can change attributes as an operator does with `jointopsctl set`: the
    /// weapon confirmed after dispatch sends SWAT at once.
    @Test func aScenarioSetsAttributesAsOperatorsDo() throws {
        let url = Paths.root.appendingPathComponent("Workflows/armed-response.yaml")
        let workflow = try #require(WorkflowLoader.load(source: try String(contentsOf: url, encoding: .utf8), file: url.path).workflow)
        let source = """
            scenario: weapon confirmed after dispatch
            start:
              id: OP-9
              region: hexi
              attributes: {incident_type: armed_robbery, priority: P2}
            timeline:
              - {at: 1m, fire: assess}
              - {at: 2m, fire: dispatch}
              - at: 3m
                expect: {statuses: {public_order: active}}
              - {at: 4m, set: {weapon_involved: true, priority: P1}}
              - at: 5m
                expect: {statuses: {swat: active}}
              - {at: 6m, set: {weapon_involved: true}, refused: "nothing changes"}
            """
        let (parsed, diagnostics) = ScenarioParser.parse(source: source, file: "set.yaml", workflow: workflow)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let report = ScenarioRunner.run(try #require(parsed), workflow: workflow)
        #expect(report.failures == [], "\(report.lines)")
        #expect(report.lines.contains { $0.contains("dispatched swat") }, "\(report.lines)")
        // Names and values are checked before running, as at start.
        let typo = source.replacingOccurrences(
            of: "set: {weapon_involved: true, priority: P1}", with: "set: {weapon_involvd: yes, priority: P9}")
        let (none, problems) = ScenarioParser.parse(source: typo, file: "set.yaml", workflow: workflow)
        #expect(none == nil)
        #expect(
            problems.map(\.message) == [
                "workflow 'armed-response' has no attribute 'weapon_involvd'; did you mean 'weapon_involved'?",
                "attribute 'priority' must be a priority P1, P2, P3 or P4; found 'P9'",
            ], "\(problems.map(\.message))")
    }
}
