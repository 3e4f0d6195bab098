import Foundation
import JointOpsCore
import JointOpsStore

/// `jointops-bench report`: an evaluation report over 1,000,000 closed operations (target
/// ≤ 2 s). The operations are 64 real armed-response runs through the engine and store,
/// with seeded random timings, whose report rows are then copied under new ids, regions,
/// priorities and start times — the report reads only those rows, so this measures it exactly.
enum ReportBenchmark {
    static let regions = ["hexi", "heping", "nankai", "hedong", "hebei", "hongqiao", "dongli", "xiqing", "binhai", "hexi-liulin"]

    static func run(workflowsFolder: URL, operations: Int) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("jointops-bench-report-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { if ProcessInfo.processInfo.environment["JOINTOPS_BENCH_KEEP"] == nil { try? FileManager.default.removeItem(at: folder) } }
        let source = try String(contentsOf: workflowsFolder.appendingPathComponent("armed-response.yaml"), encoding: .utf8)
        guard let workflow = WorkflowLoader.load(source: source, file: "armed-response.yaml").workflow else {
            fatalError("armed-response.yaml is invalid")
        }
        let store = try EventStore(options: StoreOptions(path: folder.appendingPathComponent("report.sqlite").path, durability: .normal))
        try store.register(workflow, source: source, at: Instant(milliseconds: 0))
        var random = SplitMix64(seed: 20_261_129)
        let templates = try (0..<64).map { try template(workflow, number: $0, &random) }
        let period: Int64 = 30 * 86_400_000
        let base: Int64 = 1_800_000_000_000
        let clock = ContinuousClock()
        let loadStarted = clock.now
        var batch: [OperationFacts] = []
        batch.reserveCapacity(50_000)
        for number in 0..<operations {
            var facts = templates[number % templates.count]
            let shift = base + Int64(number) * period / Int64(operations) - facts.startedAt.milliseconds
            facts.operation = "OP-B-\(number)"
            facts.region = regions[Int(random.next() % UInt64(regions.count))]
            facts.priority = Int(random.next() % 4) + 1
            facts.startedAt = Instant(milliseconds: facts.startedAt.milliseconds + shift)
            facts.endedAt = Instant(milliseconds: facts.endedAt.milliseconds + shift)
            batch.append(facts)
            if batch.count == 50_000 {
                try store.loadReportFactsForBenchmark(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        try store.loadReportFactsForBenchmark(batch)
        print(String(format: "report: loaded %d closed operations' report rows in %.1f s", operations, seconds(clock.now - loadStarted)))
        let from = Instant(milliseconds: base)
        let to = Instant(milliseconds: base + period)
        for (name, filter) in [
            ("whole city", ReportFilter()), ("one district (hexi + hexi-liulin)", ReportFilter(regions: ["hexi", "hexi-liulin"])),
            ("branch swat", ReportFilter(branch: "swat")), ("priority P1", ReportFilter(priority: 1)),
        ] {
            var times: [Double] = []
            var report: EvaluationReport?
            for _ in 0..<3 {
                let started = clock.now
                report = try store.evaluationReport(from: from, to: to, filter: filter)
                times.append(seconds(clock.now - started))
            }
            let counted = report?.rows.first { $0.figure == "operations.closed" }?.current ?? 0
            let time = median(times)
            print(
                String(
                    format: "report: %@ over %d operations (%.0f in the filter): %.2f s (median of 3), target ≤ 2 s: %@", name,
                    operations, counted, time, time <= 2 ? "met" : "NOT met"))
        }
        try store.close()
    }

    /// One armed-response operation run to its close with random timings; its facts.
    static func template(_ workflow: Workflow, number: Int, _ random: inout SplitMix64) throws -> OperationFacts {
        func seconds(_ range: ClosedRange<Int64>) -> Int64 { range.lowerBound + Int64(random.next() % UInt64(range.count)) }
        let weapon = number % 3 == 0
        var (state, _) = try OperationState.start(
            workflow, id: "T-\(number)", region: "hexi",
            attributes: [
                "incident_type": "armed_robbery", "priority": number % 2 == 0 ? "P1" : "P3", "weapon_involved": weapon ? "true" : "false",
            ],
            at: Instant(milliseconds: 0), actor: nil)
        var events: [RecordedEvent] = []
        var now: Int64 = 0
        func apply(_ command: Command, after delay: Int64) throws {
            now += delay * 1000
            var fired = 0
            while let timer = state.runningTimers.min(by: { $0.due < $1.due }), timer.due.milliseconds <= now {
                fired += 1
                if fired > 1000 {
                    fatalError(
                        "template \(number): timer \(timer.key) keeps firing at \(timer.due) (now \(now)); events \(events.suffix(5).map { state.describe($0.event) })"
                    )
                }
                events += try state.handle(.timerFired(timer.key), at: timer.due, actor: nil).events
            }
            events += try state.handle(command, at: Instant(milliseconds: now), actor: nil).events
        }
        try apply(.fire(event: "assess"), after: seconds(10...150))
        try apply(.fire(event: "dispatch"), after: seconds(20...120))
        let branches = state.branches.map(\.name)
        for branch in branches {
            let steps =
                branch == "swat"
                ? ["on_scene"]
                : branch == "traffic" ? ["control_points", "lifted", "completed"] : ["on_scene", "perimeter_set", "cleared", "completed"]
            for step in steps { try apply(.advance(branch: branch, to: step, outcome: nil), after: seconds(30...300)) }
            if branch == "swat" {
                try apply(.advance(branch: branch, to: nil, outcome: "suspect_detained"), after: seconds(60...600))
                try apply(.advance(branch: branch, to: "completed", outcome: nil), after: seconds(60...600))
            }
        }
        // Reinforcements an escalation ladder sent meanwhile stand down.
        for instance in state.branches where instance.status == .active {
            try apply(.advance(branch: instance.name, to: "stood_down", outcome: nil), after: 1)
        }
        try apply(.fire(event: "contained"), after: seconds(60...600))
        try apply(.advance(branch: "criminal_investigation", to: "scene_investigation", outcome: nil), after: seconds(600...3600))
        try apply(.advance(branch: "criminal_investigation", to: "case_filed", outcome: nil), after: seconds(3600...80_000))
        try apply(.advance(branch: "criminal_investigation", to: nil, outcome: "prosecution_referral"), after: seconds(600...3600))
        try apply(.close(disposition: "suspect_arrested"), after: seconds(600...7200))
        let started = try OperationState.start(
            workflow, id: "T-\(number)", region: "hexi",
            attributes: [
                "incident_type": "armed_robbery", "priority": number % 2 == 0 ? "P1" : "P3", "weapon_involved": weapon ? "true" : "false",
            ],
            at: Instant(milliseconds: 0), actor: nil
        ).1.events
        guard let facts = OperationFacts(state, events: started + events) else { fatalError("template \(number) did not close") }
        return facts
    }
}
