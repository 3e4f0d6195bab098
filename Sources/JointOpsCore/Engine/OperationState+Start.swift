extension OperationState {
    /// Starts an operation of `workflow`: checks the attributes, enters the initial phase,
    /// dispatches what it dispatches on entry and arms the deadlines measured from the start.
    ///
    /// `attributes` are given as text (as typed by an operator) and read by each attribute's type.
    public static func start(
        _ workflow: Workflow, id: String, region: String, attributes: [String: String], at: Instant, actor: Actor?
    ) throws(Refusal) -> (OperationState, Transition) {
        func refuse(_ code: Refusal.Code, _ reason: String, parameter: String? = nil) -> Refusal {
            Refusal(
                code: code, reason: reason, operation: id.isEmpty ? "(new)" : id, phase: "not started",
                allowed: ["start with " + workflow.attributes.map { "\($0.name)\($0.required ? "" : "?")" }.joined(separator: ", ")],
                parameter: parameter)
        }
        guard !id.isBlank else { throw refuse(.invalidArgument, "the operation id is empty; give one, e.g. OP-2026-0001", parameter: "id") }
        // Ids starting with '@' name the log's other streams (the roster's is '@units').
        guard !id.hasPrefix("@") else {
            throw refuse(
                .invalidArgument, "operation ids cannot start with '@' (reserved for the log's other streams); e.g. OP-2026-0001",
                parameter: "id")
        }
        if let problem = Self.operationIDProblem(id) { throw refuse(.invalidArgument, problem, parameter: "id") }
        guard !region.isBlank else {
            throw refuse(.invalidArgument, "the region is empty; give the jurisdiction id the operation runs in", parameter: "region")
        }
        var values = [AttributeValue?](repeating: nil, count: workflow.attributes.count)
        if let problem = unknownAttributeProblem(attributes.keys, in: workflow) { throw refuse(.invalidAttribute, problem) }
        for (index, definition) in workflow.attributes.enumerated() {
            if let text = attributes[definition.name] {
                switch attributeValue(text, of: definition) {
                case .success(let value): values[index] = value
                case .failure(let problem): throw refuse(.invalidAttribute, problem.reason)
                }
            } else if let value = definition.defaultValue {
                values[index] = value
            }
        }
        // Every missing one at once: an operator should not learn them one refusal at a time.
        let missing = workflow.attributes.indices.filter { workflow.attributes[$0].required && values[$0] == nil }
            .map { workflow.attributes[$0].name }
        if missing.count == 1 {
            throw refuse(.invalidAttribute, "attribute '\(missing[0])' is required by workflow '\(workflow.id)'")
        } else if !missing.isEmpty {
            throw refuse(
                .invalidAttribute,
                "attributes \(missing.map { "'\($0)'" }.joined(separator: ", ")) are required by workflow '\(workflow.id)'")
        }
        var state = OperationState(id: id, workflow: workflow, region: region, attributes: values, at: at)
        var transition = Transition()
        var context = DecisionContext(at: at, actor: actor)
        state.emit(.started(operation: id, workflow: workflow.id, version: workflow.version, region: region, attributes: values), &context)
        state.enter(workflow.initialPhase, cause: .start, &context)
        state.settle(&context)
        transition.events = context.events
        transition.effects = context.effects
        state.appendTimerEffects(before: [], &transition)
        return (state, transition)
    }
}

extension OperationState {
    /// Why attribute values given as text are refused, with the operation's own words.
    struct AttributeProblem: Error {
        var reason: String
    }

    /// The refusal's reason for the first (by name) of `names` that `workflow` has no
    /// attribute of, with a did-you-mean; nil when it has them all. Start and set share it.
    static func unknownAttributeProblem(_ names: some Collection<String>, in workflow: Workflow) -> String? {
        guard let name = names.sorted().first(where: { workflow.attribute(named: $0) == nil }) else { return nil }
        let known = workflow.attributes.map(\.name)
        return "workflow '\(workflow.id)' has no attribute '\(name)'\(Suggestions.hint(for: name, in: known, noun: "attributes"))"
    }

    /// Reads an attribute's value from its text (as typed by an operator) by the attribute's
    /// type; the failure says what was expected. Start and set share it.
    static func attributeValue(_ text: String, of definition: AttributeDefinition) -> Result<AttributeValue, AttributeProblem> {
        switch AttributeValue.parse(text, as: definition.type) {
        case .success(let value): .success(value)
        case .failure(let error):
            .failure(AttributeProblem(reason: "attribute '\(definition.name)' must be \(error.expected); got '\(quoted(text))'"))
        }
    }
}

extension String {
    /// Empty or only whitespace.
    package var isBlank: Bool { allSatisfy(\.isWhitespace) }

    /// Whether it holds a control character (a NUL, tab, line break, escape): text that
    /// would print as nothing, break a line, or drive a terminal.
    package var containsControlCharacter: Bool { unicodeScalars.contains { $0.properties.generalCategory == .control } }
}

extension OperationState {
    /// A value as a refusal quotes it: control characters escaped (they would drive the
    /// operator's terminal), and at most 60 characters of it.
    static func quoted(_ text: String) -> String {
        let scalars = text.unicodeScalars
        let shown = scalars.prefix(60).map { $0.properties.generalCategory == .control ? $0.escaped(asASCII: true) : String($0) }
        return shown.joined() + (scalars.count > 60 ? "…" : "")
    }

    /// The longest operation id.
    public static let maximumIDLength = 64

    /// What is wrong with a new operation's id, or nil. Ids are typed at terminals, put in
    /// file names and shell commands, and go into the hash chain's text: letters, digits,
    /// '-', '_' and '.', starting with a letter or digit.
    public static func operationIDProblem(_ id: String) -> String? {
        let allowed = { (byte: UInt8) in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x2D || byte == 0x5F
                || byte == 0x2E
        }
        let bytes = Array(id.utf8)
        let rule = "use 1 to \(maximumIDLength) letters, digits, '-', '_' or '.', starting with a letter or digit, e.g. OP-2026-0001"
        if bytes.count > maximumIDLength { return "the operation id is \(id.unicodeScalars.count) characters long; \(rule)" }
        if let bad = bytes.firstIndex(where: { !allowed($0) }) {
            let shown =
                bytes[bad] >= 0x21 && bytes[bad] < 0x7F
                ? "'\(Character(UnicodeScalar(bytes[bad])))'" : "a space, control or non-ASCII character"
            return "the operation id has \(shown) at byte \(bad + 1); \(rule)"
        }
        if let first = bytes.first, !(0x30...0x39).contains(first), !(0x41...0x5A).contains(first), !(0x61...0x7A).contains(first) {
            return "the operation id starts with '\(Character(UnicodeScalar(first)))'; \(rule)"
        }
        return nil
    }
}
