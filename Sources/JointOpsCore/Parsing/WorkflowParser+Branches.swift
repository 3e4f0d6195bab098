extension WorkflowParser {
    func parseBranches(_ value: YAMLValue, _ sourceMap: inout SourceMap) -> [BranchDefinition] {
        guard let mapping = read.mapping(value, "'branches'"), read.isWithinLimit(mapping, value, "branches") else { return [] }
        var result: [BranchDefinition] = []
        var seen: Set<String> = []
        for entry in mapping.entries {
            let keyValue = YAMLValue(node: .init(entry.key), location: entry.keyLocation)
            guard let name = read.identifier(keyValue, "branch name") else { continue }
            guard seen.insert(name).inserted else {
                sink.error(entry.keyLocation, "duplicate branch '\(name)'")
                continue
            }
            // Each branch is checked against the step names declared for it; `result` holds
            // only the branches that parsed, so its count is no index into `stepNames`.
            guard let declared = branchNames.firstIndex(of: name) else { continue }
            var locations: [SourceLocation] = []
            if let branch = parseBranch(name, entry.value, names: stepNames[declared], &locations) {
                result.append(branch)
                sourceMap.branches.append(entry.keyLocation)
                sourceMap.steps.append(locations)
            }
        }
        return result
    }

    private func parseBranch(
        _ name: String, _ value: YAMLValue, names: [String], _ locations: inout [SourceLocation]
    ) -> BranchDefinition? {
        let context = "branch '\(name)'"
        guard let fields = read.mapping(value, context) else { return nil }
        fields.check(
            allowed: ["kind", "title", "units", "required", "capabilities", "release", "steps"], required: ["kind", "steps"], in: context,
            sink)
        let kind = fields["kind"].flatMap { read.choice($0, "the kind of \(context)", BranchDefinition.Kind.allCases.map(\.rawValue)) }
            .flatMap(BranchDefinition.Kind.init(rawValue:))
        guard let stepsValue = fields["steps"], let stepsMapping = read.mapping(stepsValue, "the steps of \(context)"),
            read.isWithinLimit(stepsMapping, stepsValue, "steps of \(context)")
        else { return nil }
        var steps: [StepDefinition] = []
        var initial: [Int] = []
        var seen: Set<String> = []
        for entry in stepsMapping.entries {
            let keyValue = YAMLValue(node: .init(entry.key), location: entry.keyLocation)
            guard let stepName = read.identifier(keyValue, "step name") else { return nil }
            guard seen.insert(stepName).inserted else {
                sink.error(entry.keyLocation, "duplicate step '\(stepName)' in \(context)")
                continue
            }
            guard let (step, isInitial) = parseStep(stepName, entry.value, branch: name, names: names) else { continue }
            if isInitial { initial.append(steps.count) }
            steps.append(step)
            locations.append(entry.keyLocation)
        }
        guard steps.count == names.count else { return nil }
        if initial.isEmpty {
            sink.error(
                stepsValue.location, "\(context) has no initial step; mark the step a dispatched branch starts in with 'initial: true'")
        } else if initial.count > 1 {
            sink.error(
                locations[initial[1]],
                "\(context) has a second initial step '\(steps[initial[1]].name)' (the first is '\(steps[initial[0]].name)'); only one step may be initial"
            )
        }
        guard let standDown = steps.firstIndex(where: { $0.end == .stoodDown }) else {
            sink.error(
                stepsValue.location,
                "\(context) has no step with 'end: stood_down'; cancelling an operation must be able to stand the branch down")
            return nil
        }
        guard let kind, let first = initial.first else { return nil }
        for index in steps.indices { steps[index].reachableDirectly = Self.directTargets(of: index, in: steps) }
        Self.setCountsAsReaching(&steps)
        return BranchDefinition(
            name: name, title: fields["title"].flatMap { read.title($0, "the title of \(context)") }, kind: kind,
            units: fields["units"].flatMap { read.integer($0, "'units'", minimum: 1, maximum: ScalarReaders.mostUnits) } ?? 1,
            required: fields["required"].flatMap { read.bool($0, "'required'") } ?? true,
            steps: steps, initialStep: first, standDownStep: standDown,
            capabilities: fields["capabilities"].map { capabilities($0, "'capabilities' of \(context)") } ?? [],
            release: fields["release"].flatMap { read.choice($0, "'release' of \(context)", UnitRelease.allCases.map(\.rawValue)) }
                .flatMap(UnitRelease.init(rawValue:)) ?? .available)
    }

    private func parseStep(_ name: String, _ value: YAMLValue, branch: String, names: [String]) -> (StepDefinition, Bool)? {
        let context = "step '\(name)' of branch '\(branch)'"
        guard let fields = read.mapping(value, context) else { return nil }
        fields.check(allowed: ["initial", "title", "next", "outcomes", "optional", "end", "unit_status"], in: context, sink)
        func stepIndex(_ item: YAMLValue, _ what: String) -> Int? {
            guard let target = read.string(item, what) else { return nil }
            if let index = names.firstIndex(of: target) { return index }
            sink.error(
                item.textLocation,
                "\(what) names undefined step '\(target)' of branch '\(branch)'\(Suggestions.hint(for: target, in: names, noun: "steps"))")
            return nil
        }
        var next: [Int] = []
        if let nextValue = fields["next"] {
            let items = nextValue.scalar != nil ? [nextValue] : (read.list(nextValue, "'next' of \(context)") ?? [])
            next = items.compactMap { stepIndex($0, "'next' of \(context)") }
        }
        var outcomes: [(name: String, target: Int)] = []
        if let outcomesValue = fields["outcomes"], let mapping = read.mapping(outcomesValue, "'outcomes' of \(context)") {
            for entry in mapping.entries {
                let keyValue = YAMLValue(node: .init(entry.key), location: entry.keyLocation)
                guard let outcome = read.identifier(keyValue, "outcome name") else { continue }
                if let target = stepIndex(entry.value, "outcome '\(outcome)' of \(context)") { outcomes.append((outcome, target)) }
            }
        }
        var end: BranchStatus?
        if let endValue = fields["end"] {
            end = read.choice(endValue, "'end' of \(context)", BranchStatus.endStatuses.map(\.rawValue)).flatMap(
                BranchStatus.init(rawValue:))
            if end != nil, fields["next"] != nil || fields["outcomes"] != nil {
                sink.error(endValue.location, "\(context) is an end step but also has 'next' or 'outcomes'; an end step leads nowhere")
            }
        } else if fields["next"] == nil, fields["outcomes"] == nil {
            sink.error(value.location, "\(context) leads nowhere; give it 'next', 'outcomes', or 'end: completed | failed | stood_down'")
        }
        let step = StepDefinition(
            name: name, title: fields["title"].flatMap { read.title($0, "the title of \(context)") }, next: next,
            outcomes: outcomes, optional: fields["optional"].flatMap { read.bool($0, "'optional'") } ?? false,
            end: end, reachableDirectly: [],
            unitStatus: fields["unit_status"].flatMap {
                read.choice($0, "'unit_status' of \(context)", UnitStatus.stepStatuses.map(\.rawValue))
            }.flatMap(UnitStatus.init(rawValue:)))
        return (step, fields["initial"].flatMap { read.bool($0, "'initial'") } ?? false)
    }

    /// `capabilities: [armed, negotiator]` (or one name): free names, each `[a-z][a-z0-9_]*`.
    func capabilities(_ value: YAMLValue, _ what: String) -> [String] {
        var result: [String] = []
        for (name, item) in read.identifierList(value, "capability in \(what)") {
            if result.contains(name) {
                sink.error(item.textLocation, "capability '\(name)' appears twice in \(what)")
            } else {
                result.append(name)
            }
        }
        return result
    }

    /// Each step's `countsAsReaching`: itself, and for a step that does not end the branch
    /// every step it is strictly after (reachable from it, and unable to lead back to it).
    static func setCountsAsReaching(_ steps: inout [StepDefinition]) {
        let edges = steps.map { $0.next + $0.outcomes.map(\.target) }
        let ahead = edges.indices.map { PhaseGraph.closure(edges, from: $0, includingStart: false) }
        for index in steps.indices {
            steps[index].countsAsReaching =
                [index]
                + (steps[index].end != nil
                    ? [] : steps.indices.filter { $0 != index && ahead[$0].contains(index) && !ahead[index].contains($0) })
        }
    }

    /// `next` and outcome targets, plus what lies beyond any optional step among them.
    static func directTargets(of index: Int, in steps: [StepDefinition]) -> [Int] {
        // Breadth first, so choices are listed in the order the author wrote them.
        var result: [Int] = []
        var queue = steps[index].next + steps[index].outcomes.map(\.target)
        var position = 0
        while position < queue.count {
            let candidate = queue[position]
            position += 1
            guard !result.contains(candidate) else { continue }
            result.append(candidate)
            if steps[candidate].optional { queue += steps[candidate].next + steps[candidate].outcomes.map(\.target) }
        }
        return result
    }
}
