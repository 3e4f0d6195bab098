import JointOpsCore
import JointOpsProtocol
import JointOpsStore

/// Evaluation: service ratings of closed operations (好差评) and the period reports.
extension OperationEngine {
    /// The workflow a dissatisfied rating starts, for the operation's region.
    static let rectificationWorkflow = "service-evaluation-followup"

    /// Records a rating of a closed operation. A dissatisfied one (score 1 or 2) starts the
    /// rectification workflow in the operation's region, in the same transaction: either
    /// both are recorded or neither is.
    public func rate(
        _ id: String, rating: ServiceRating, channel: String?, category: String?, requestID: RequestID?, caller: Caller
    ) async throws(VarlinkError) -> JSONValue {
        await holdRequest(requestID)
        defer { releaseRequest(requestID) }
        if let requestID, let earlier = try previousReply(requestID, method: "Rate") { return earlier }
        // Checked whatever the score: a wrong value is a mistake even where it is not used.
        try checkRatingChoice(channel, attribute: "service_channel", parameter: "channel")
        try checkRatingChoice(category, attribute: "complaint_category", parameter: "category")
        await acquire(id)
        defer { release(id) }
        if let requestID, let earlier = try previousReply(requestID, method: "Rate") { return earlier }
        let now = clock()
        var state: OperationState
        if let open = operations[id] {
            state = open
        } else {
            guard (try? store.operation(id)) != nil else {
                throw VarlinkError("io.jointops.Operations.OperationNotFound", ["id": .string(id)])
            }
            // Away from the engine: it grows with the operation's history (50,000 events held
            // every command 0.5 s when replayed here).
            state = try await readAway { store throws(StoreError) in try store.replay(id) }
        }
        let before = state
        let ratedAt = try storeRead({ () throws(StoreError) in try store.ratedAt(id) })
        let transition: Transition
        do {
            transition = try state.rate(rating, at: eventTime(for: state), actor: caller.actor, ratedAt: ratedAt)
        } catch {
            throw Self.refused(error)
        }
        var changes: [(state: OperationState, before: OperationState?, transition: Transition)] = [(state, before, transition)]
        var rectification: OperationState?
        var work = UnitWork()
        // The follow-up's generated id, given back if the rating is not stored.
        var followUpID: String?
        var stored = false
        defer { if let followUpID, !stored { giveBack(generated: followUpID) } }
        if rating.isDissatisfied {
            guard let category else {
                throw VarlinkError.invalidParameter(
                    "category",
                    because: "a dissatisfied rating (score 1 or 2) needs the complaint category: attitude, efficiency, result or conduct")
            }
            guard let workflow = catalog.current[Self.rectificationWorkflow] else {
                throw VarlinkError(
                    "io.jointops.Operations.WorkflowNotFound",
                    ["workflow": .string(Self.rectificationWorkflow), "known": .array(catalog.current.keys.sorted().map(JSONValue.string))])
            }
            let (region, since) = (state.region, Instant(milliseconds: now.milliseconds - 90 * 86_400_000))
            let earlier = try await readAway { store throws(StoreError) in try store.dissatisfiedRatings(region: region, since: since) }
            let newID = nextID(now)
            followUpID = newID
            await acquire(newID)
            defer { release(newID) }
            let attributes = [
                "evaluation_id": "EV-\(id)", "rating": rating.score == 1 ? "very_dissatisfied" : "dissatisfied",
                "service_channel": channel ?? "emergency_call_110", "complaint_category": category,
                "prior_ratings_90d": String(earlier), "repeat_complaint": earlier > 0 ? "true" : "false",
            ]
            do {
                var (started, startTransition) = try OperationState.start(
                    workflow, id: newID, region: state.region, attributes: attributes, at: now, actor: caller.actor)
                dispatchUnitsOfStart(&started, &startTransition, &work)
                changes.append((started, nil, startTransition))
                rectification = started
            } catch {
                throw Self.refused(error)
            }
        }
        let reply = JSONValue.object([
            "id": .string(id), "score": .int(Int64(rating.score)), "dissatisfied": .bool(rating.isDissatisfied),
            "rectification": rectification.map(Views.operation) ?? .null,
        ])
        try await commit(changes, reply: reply, requestID: requestID, method: "Rate", units: work)
        stored = true
        return reply
    }

    /// A rating's channel or complaint category, against the follow-up workflow's attribute
    /// it fills (the workflow's own choices, in its parameter's name).
    private func checkRatingChoice(_ value: String?, attribute name: String, parameter: String) throws(VarlinkError) {
        guard let value, let workflow = catalog.current[Self.rectificationWorkflow], let index = workflow.attribute(named: name) else {
            return
        }
        if case .failure(let error) = AttributeValue.parse(value, as: workflow.attributes[index].type) {
            throw VarlinkError.invalidParameter(
                parameter, because: "'\(value)' is not a \(parameter) jointops knows: it must be \(error.expected)")
        }
    }

    /// Selects the units a start dispatches (a start names no units, so nothing is refused).
    private func dispatchUnitsOfStart(_ state: inout OperationState, _ transition: inout Transition, _ work: inout UnitWork) {
        do { try dispatchUnits(&state, &transition, &work) } catch {
            preconditionFailure("dispatching without named units cannot be refused: \(error)")
        }
    }

    /// The evaluation report over operations started in `[from, to)`, beside the previous
    /// period of the same length.
    public func evaluate(
        from: Instant, to: Instant, region: String? = nil, branch: String? = nil, workflow: String? = nil, priority: String? = nil
    ) async throws(VarlinkError) -> JSONValue {
        // A region means the region and its sub-regions (a district covers its stations and grids).
        var filter = ReportFilter(branch: branch, workflow: workflow)
        if let region { filter.regions = try regionScope(region, parameter: "region").sorted() }
        if let branch { try checkBranchName(branch, parameter: "branch") }
        if let workflow { try checkWorkflowName(workflow, parameter: "workflow") }
        if let priority { filter.priority = try priorityLevel(priority) }
        let checked = filter
        let report = try await readAway { store throws(StoreError) in try store.evaluationReport(from: from, to: to, filter: checked) }
        let previous = EvaluationReport.previousPeriod(from: from, to: to)
        func number(_ value: Double?) -> JSONValue { value.map { .double(($0 * 100).rounded() / 100) } ?? .null }
        return .object([
            "from": Views.time(from), "to": Views.time(to), "previousFrom": Views.time(previous.from),
            "previousTo": Views.time(previous.to),
            "figures": .array(
                report.rows.map { row in
                    .object([
                        "figure": .string(row.figure), "label": .string(row.label), "unit": .string(row.unit.rawValue),
                        "current": number(row.current), "previous": number(row.previous), "changePercent": number(row.changePercent),
                    ])
                }),
        ])
    }
}
