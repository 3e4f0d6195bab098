extension WorkflowParser {
    func parseAttributes(_ value: YAMLValue) -> [AttributeDefinition] {
        guard let mapping = read.mapping(value, "'attributes'") else { return [] }
        var result: [AttributeDefinition] = []
        var seen: Set<String> = []
        for entry in mapping.entries {
            guard let name = read.identifier(YAMLValue(node: .init(entry.key), location: entry.keyLocation), "attribute name") else {
                continue
            }
            guard seen.insert(name).inserted else {
                sink.error(entry.keyLocation, "duplicate attribute '\(name)'")
                continue
            }
            if let attribute = parseAttribute(name, entry.value) { result.append(attribute) }
        }
        return result
    }

    private func parseAttribute(_ name: String, _ value: YAMLValue) -> AttributeDefinition? {
        let context = "attribute '\(name)'"
        guard let fields = read.mapping(value, context) else { return nil }
        fields.check(allowed: ["type", "values", "required", "default", "title"], required: ["type"], in: context, sink)
        guard let typeName = fields["type"].flatMap({ read.choice($0, "the type of \(context)", AttributeType.names) }) else { return nil }
        var type: AttributeType
        switch typeName {
        case "string": type = .string
        case "int": type = .int
        case "bool": type = .bool
        case "priority": type = .priority
        default: type = .enumeration([])
        }
        if case .enumeration = type {
            guard let valuesNode = fields["values"] else {
                sink.error(fields["type"]!.location, "\(context) is an enum but has no 'values'; list them, e.g. values: [a, b]")
                return nil
            }
            let values = read.identifierList(valuesNode, "value of \(context)").map(\.0)
            if Set(values).count != values.count {
                sink.error(valuesNode.location, "\(context) lists a value twice")
            }
            if values.isEmpty { return nil }
            type = .enumeration(values)
        } else if let values = fields["values"] {
            sink.error(values.location, "'values' is only for enum attributes; \(context) is \(typeName)")
        }
        var defaultValue: AttributeValue?
        if let node = fields["default"], let text = read.string(node, "the default of \(context)") {
            switch AttributeValue.parse(text, as: type) {
            case .success(let value): defaultValue = value
            case .failure(let error):
                sink.error(node.textLocation, "the default of \(context) must be \(error.expected); found '\(text)'")
            }
        }
        let required = fields["required"].flatMap { read.bool($0, "'required'") } ?? false
        if required, defaultValue != nil, let node = fields["default"] {
            sink.warning(
                node.textLocation, "\(context) is required, so the default is never used; remove 'default' or 'required: true'")
        }
        return AttributeDefinition(
            name: name, title: fields["title"].flatMap { read.title($0, "the title of \(context)") }, type: type,
            required: required, defaultValue: defaultValue)
    }

    /// Records the phase names so transitions can refer to phases written further down.
    mutating func declarePhases(_ value: YAMLValue) {
        guard let mapping = read.mapping(value, "'phases'") else { return }
        for entry in mapping.entries {
            let keyValue = YAMLValue(node: .init(entry.key), location: entry.keyLocation)
            guard let name = read.identifier(keyValue, "phase name") else { continue }
            if name == "closed" || name == "cancelled" {
                sink.error(
                    entry.keyLocation,
                    "'\(name)' is a built-in terminal phase and cannot be declared; the \(name == "closed" ? "close" : "cancel") command reaches it"
                )
                continue
            }
            if phaseNames.contains(name) {
                sink.error(entry.keyLocation, "duplicate phase '\(name)'")
                continue
            }
            phaseNames.append(name)
            phaseValues.append(entry.value)
            if let phase = YAMLMappingIfAny(entry.value), let on = phase["on"], case .mapping(let events) = on.node {
                for (key, _) in events { if let event = key.scalar?.string { eventNames.insert(event) } }
            }
        }
        if phaseNames.isEmpty, mapping.entries.isEmpty {
            sink.error(value.location, "'phases' is empty; a workflow needs at least an initial phase")
        }
    }

    /// Records branch and step names so guards and deadlines can refer to them.
    mutating func declareBranches(_ value: YAMLValue) {
        guard case .mapping = value.node else { return }
        for entry in YAMLMapping(value, file: file).entries {
            guard ScalarReaders.isIdentifier(entry.key), !branchNames.contains(entry.key) else { continue }
            branchNames.append(entry.key)
            var steps: [String] = []
            if let branch = YAMLMappingIfAny(entry.value), let stepsValue = branch["steps"], case .mapping = stepsValue.node {
                for step in YAMLMapping(stepsValue, file: file).entries where !steps.contains(step.key) {
                    steps.append(step.key)
                }
            }
            stepNames.append(steps)
        }
    }

    func YAMLMappingIfAny(_ value: YAMLValue) -> YAMLMapping? {
        guard case .mapping = value.node else { return nil }
        return YAMLMapping(value, file: file)
    }
}
